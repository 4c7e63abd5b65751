import CArchive
import Foundation

/// Reads a zip (a jar) front to back from a stream of bytes, without seeking and without holding
/// it in memory: entry headers in order, with the data of the entries the caller asks for and
/// the rest skipped. `source` fills a buffer and returns the byte count, 0 at the end.
public final class ZipStreamReader {
    public let name: String
    private let archive: OpaquePointer
    private let source: (UnsafeMutableRawBufferPointer) throws -> Int
    /// Handed to libarchive by pointer, so it lives outside Swift's copy-on-write storage.
    private let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    /// Where entry data is inflated; apart from `chunk`, which libarchive may still be reading.
    private let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    private var sourceError: (any Error)?

    public init(name: String, source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) throws {
        guard let archive = archive_read_new() else { throw ArchiveError(path: name, "libarchive: out of memory") }
        self.name = name
        self.archive = archive
        self.source = source
        archive_read_support_format_zip_streamable(archive)
        let opened = archive_read_open(archive, Unmanaged.passUnretained(self).toOpaque(), nil, { _, context, buffer in
            let reader = Unmanaged<ZipStreamReader>.fromOpaque(context!).takeUnretainedValue()
            return reader.fill(buffer!)
        }, nil)
        guard opened == ARCHIVE_OK else { throw failure("not a zip archive") }
    }

    deinit {
        archive_read_free(archive)
        chunk.deallocate()
        output.deallocate()
    }

    private func fill(_ buffer: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        do {
            let count = try source(chunk)
            buffer.pointee = UnsafeRawPointer(chunk.baseAddress)
            return count
        } catch {
            sourceError = error
            return -1
        }
    }

    private func failure(_ what: String) -> any Error {
        sourceError ?? ArchiveError(path: name, "\(what): \(TarWriter.message(archive))")
    }

    /// The next entry's path and size (nil when the zip does not say), or nil at the end.
    public func next() throws -> (path: String, size: Int64?)? {
        var header: OpaquePointer?
        let status = archive_read_next_header(archive, &header)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let header else { throw failure("not a readable zip archive") }
        let path = (archive_entry_pathname_utf8(header) ?? archive_entry_pathname(header)).map { String(cString: $0) } ?? ""
        return (path, archive_entry_size_is_set(header) != 0 ? archive_entry_size(header) : nil)
    }

    /// The current entry's data, at most `limit` bytes; nil when it holds more.
    public func read(limit: Int) throws -> [UInt8]? {
        var bytes: [UInt8] = []
        while true {
            let count = archive_read_data(archive, output.baseAddress, output.count)
            if count == 0 { return bytes }
            guard count > 0 else { throw failure("corrupt zip entry") }
            guard bytes.count + count <= limit else { return nil }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: output[..<count]))
        }
    }
}
