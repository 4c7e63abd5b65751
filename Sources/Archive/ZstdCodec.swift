import CArchive

/// zstd as a sequence of independent frames, one per block, which every zstd decoder reads as
/// one stream (RFC 8878, section 3.1). Blocks are compressed through libarchive's zstd filter
/// (libarchive links libzstd, so no other C library is needed); stored blocks are frames of raw
/// zstd blocks written here, which cost a copy.
public struct ZstdCodec: BlockCodec {
    public let level: Int32

    public init(level: Int32 = 3) throws {
        guard (1...19).contains(level) else { throw ArchiveError(path: nil, "zstd level \(level) is not 1 to 19") }
        self.level = level
    }

    public var dictionarySize: Int { 0 }
    public var header: [UInt8] { [] }
    public var trailer: [UInt8] { [] }
    public mutating func account(_ block: EncodedBlock) {}

    public func encode(_ block: InputBlock) throws -> EncodedBlock {
        let bytes = block.store ? Self.rawFrame(block.bytes) : try compressedFrame(block.bytes)
        return EncodedBlock(bytes: bytes, checksum: 0, inputLength: block.bytes.count)
    }

    /// The largest zstd block (Block_Maximum_Size).
    static let maximumRawBlock = 128 << 10

    /// Magic number; a frame header descriptor with Single_Segment set and a 4-byte
    /// Frame_Content_Size; then raw blocks (type 0) of at most 128 KiB, the last one flagged.
    static func rawFrame(_ input: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd, 0xa0]
        frame.reserveCapacity(input.count + input.count / maximumRawBlock * 3 + 16)
        appendLittleEndian(UInt32(input.count), bytes: 4, to: &frame)
        var offset = 0
        repeat {
            let size = min(maximumRawBlock, input.count - offset)
            let isLast = offset + size == input.count
            appendLittleEndian(UInt32(size) << 3 | (isLast ? 1 : 0), bytes: 3, to: &frame)
            frame.append(contentsOf: input[offset..<offset + size])
            offset += size
        } while offset < input.count
        return frame
    }

    private static func appendLittleEndian(_ value: UInt32, bytes: Int, to output: inout [UInt8]) {
        for index in 0..<bytes { output.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    /// One zstd frame from libarchive's raw format with the zstd filter.
    private func compressedFrame(_ input: [UInt8]) throws -> [UInt8] {
        let memory = MemorySink()
        let output = try ArchiveOutput(sink: memory) { handle in
            archive_write_set_format_raw(handle)
            archive_write_add_filter_zstd(handle)
            archive_write_set_filter_option(handle, "zstd", "compression-level", "\(level)")
        }
        // The raw format writes one entry's data with no header: libarchive still wants one.
        guard let entry = archive_entry_new() else { throw ArchiveError(path: nil, "libarchive: out of memory") }
        defer { archive_entry_free(entry) }
        archive_entry_set_filetype(entry, carchive_ifreg)
        try output.check(archive_write_header(output.handle, entry), path: nil)
        try input.withUnsafeBytes { try output.writeData($0, path: nil) }
        try output.close()
        return memory.bytes
    }
}

public typealias ZstdSink = BlockCompressor<ZstdCodec>
