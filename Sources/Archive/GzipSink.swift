import CZlib

/// Gzip-compresses into the next stage with zlib. The gzip header is fixed (no name, mtime 0,
/// OS byte 255), so the same input gives the same bytes on every machine.
public final class GzipSink: ByteSink {
    private let next: any ByteSink
    // zlib keeps pointers to the stream and the header, so both live at fixed addresses.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let header = UnsafeMutablePointer<gz_header>.allocate(capacity: 1)
    private var output = [UInt8](repeating: 0, count: 1 << 18)

    public init(next: any ByteSink, level: Int32 = Z_DEFAULT_COMPRESSION) throws {
        self.next = next
        stream.initialize(to: z_stream())
        header.initialize(to: gz_header())
        header.pointee.os = 255
        // windowBits 15 + 16 selects the gzip wrapper.
        guard czlib_deflate_init2(stream, level, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
            stream.deallocate()
            header.deallocate()
            throw ArchiveError(path: nil, "zlib: cannot initialise deflate at level \(level)")
        }
        deflateSetHeader(stream, header)
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        header.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        try pump(flush: Z_NO_FLUSH)
    }

    public func finish() throws {
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try pump(flush: Z_FINISH)
        try next.finish()
    }

    private func pump(flush: Int32) throws {
        let capacity = output.count
        repeat {
            let (status, produced) = output.withUnsafeMutableBytes { out -> (Int32, Int) in
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(capacity)
                let status = deflate(stream, flush)
                return (status, capacity - Int(stream.pointee.avail_out))
            }
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw ArchiveError(path: nil, "zlib: deflate failed with status \(status)")
            }
            if produced > 0 { try output.withUnsafeBytes { try next.write(UnsafeRawBufferPointer(rebasing: $0[..<produced])) } }
            if flush == Z_FINISH && status == Z_STREAM_END { return }
        } while stream.pointee.avail_in > 0 || (flush == Z_FINISH) || stream.pointee.avail_out == 0
    }
}
