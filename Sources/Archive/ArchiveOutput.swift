import CArchive

/// A libarchive write handle whose output goes into a sink. It owns the handle and frees it;
/// an error the sink throws inside libarchive's callback is kept and rethrown by `check`.
final class ArchiveOutput {
    let handle: OpaquePointer
    private let sink: any ByteSink
    private var sinkError: (any Error)?

    /// `configure` picks the format and filters before the handle is opened.
    init(sink: any ByteSink, configure: (OpaquePointer) -> Void) throws {
        guard let handle = archive_write_new() else { throw ArchiveError(path: nil, "libarchive: out of memory") }
        self.handle = handle
        self.sink = sink
        configure(handle)
        // No padding of the last record to 10 KiB: the stream ends where its data ends.
        archive_write_set_bytes_in_last_block(handle, 1)
        let opened = archive_write_open2(handle, Unmanaged.passUnretained(self).toOpaque(), nil, { _, context, buffer, length in
            let output = Unmanaged<ArchiveOutput>.fromOpaque(context!).takeUnretainedValue()
            do {
                try output.sink.write(UnsafeRawBufferPointer(start: buffer, count: length))
                return length
            } catch {
                output.sinkError = error
                return -1
            }
        }, nil, nil)
        guard opened == ARCHIVE_OK else { throw ArchiveError(path: nil, "libarchive: \(message)") }
    }

    deinit { archive_write_free(handle) }

    var message: String {
        archive_error_string(handle).map { String(cString: $0) } ?? "unknown libarchive error"
    }

    func check(_ status: Int32, path: String?) throws {
        if let sinkError { throw sinkError }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN else { throw ArchiveError(path: path, "libarchive: \(message)") }
    }

    /// Writes all of `bytes` as entry data.
    func writeData(_ bytes: UnsafeRawBufferPointer, path: String?) throws {
        var offset = 0
        while offset < bytes.count {
            let written = archive_write_data(handle, bytes.baseAddress! + offset, bytes.count - offset)
            guard written > 0 else { try check(Int32(ARCHIVE_FATAL), path: path); return }
            offset += written
        }
    }

    /// Flushes libarchive (filters included) and finishes the sink.
    func close() throws {
        try check(archive_write_close(handle), path: nil)
        try sink.finish()
    }
}
