import CZlib

/// One gzip member made of raw-deflated blocks, as pigz makes it: each block has the previous
/// block's last 32 KiB as its dictionary and ends with a sync flush (the last one with the final
/// block), and the member's CRC is combined from the blocks'. The header is fixed (no name,
/// mtime 0, OS byte 255).
public struct GzipCodec: BlockCodec {
    public let level: Int32
    private var crc: UInt = crc32(0, nil, 0)
    private var length: Int64 = 0

    public init(level: Int32 = 6) throws {
        guard (0...9).contains(level) else { throw ArchiveError(path: nil, "gzip level \(level) is not 0 to 9") }
        self.level = level
    }

    public var dictionarySize: Int { 32 << 10 }

    /// 1f 8b, deflate, no flags, mtime 0, zlib's extra flags for the level, OS 255 (unknown).
    public var header: [UInt8] {
        let extraFlags: UInt8 = level == 9 ? 2 : (level < 2 ? 4 : 0)
        return [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extraFlags, 255]
    }

    public func encode(_ block: InputBlock) throws -> EncodedBlock {
        let output = try deflate(block, level: block.store ? 0 : level)
        let crc = block.bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        return EncodedBlock(bytes: output, checksum: crc, inputLength: block.bytes.count)
    }

    public mutating func account(_ block: EncodedBlock) {
        crc = czlib_crc32_combine(crc, block.checksum, Int64(block.inputLength))
        length += Int64(block.inputLength)
    }

    /// CRC-32 and length modulo 2^32, little-endian.
    public var trailer: [UInt8] {
        var trailer: [UInt8] = []
        for value in [UInt32(truncatingIfNeeded: crc), UInt32(truncatingIfNeeded: length)] {
            withUnsafeBytes(of: value.littleEndian) { trailer.append(contentsOf: $0) }
        }
        return trailer
    }

    private func deflate(_ block: InputBlock, level: Int32) throws -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            deflateEnd(stream)
            stream.deallocate()
        }
        // Negative window bits: raw deflate; the gzip wrapper is the header and trailer above.
        guard czlib_deflate_init2(stream, level, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
            throw ArchiveError(path: nil, "zlib: cannot initialise deflate at level \(level)")
        }
        if !block.dictionary.isEmpty {
            block.dictionary.withUnsafeBufferPointer { _ = deflateSetDictionary(stream, $0.baseAddress, uInt($0.count)) }
        }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(block.bytes.count))) + 16)
        let status: Int32 = block.bytes.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.pointee.avail_in = uInt(source.count)
                stream.pointee.next_out = target.baseAddress
                stream.pointee.avail_out = uInt(target.count)
                return CZlib.deflate(stream, block.isLast ? Z_FINISH : Z_SYNC_FLUSH)
            }
        }
        guard status == (block.isLast ? Z_STREAM_END : Z_OK), stream.pointee.avail_in == 0 else {
            throw ArchiveError(path: nil, "zlib: deflate failed with status \(status)")
        }
        output.removeLast(Int(stream.pointee.avail_out))
        return output
    }
}

public typealias GzipSink = BlockCompressor<GzipCodec>
