import CArchive

/// A file's bytes decompressed, pulled a buffer at a time: what TarReader hands libarchive when it
/// decompresses (gzip through ISA-L) or hashes (a layer against its diff_id) the stream itself.
protocol DecompressedStream: AnyObject {
    /// Fills `output`; 0 at the end of the stream.
    func read(into output: UnsafeMutableRawBufferPointer) throws -> Int
}

extension GzipFileReader: DecompressedStream {}

/// Any other compression libarchive reads (zstd, xz, bzip2, none), decompressed by libarchive's
/// raw format. Owns its libarchive handle.
final class RawStream: DecompressedStream {
    private let path: String
    private let archive: OpaquePointer
    /// An empty file has no raw entry: its stream is empty.
    private let empty: Bool

    init(path: String) throws {
        let handle = try TarReader.newArchive(path: path, raw: true, filters: true)
        var header: OpaquePointer?
        var status = archive_read_open_filename(handle, path, 1 << 20)
        if status == ARCHIVE_OK { status = archive_read_next_header(handle, &header) }
        guard status == ARCHIVE_OK || status == ARCHIVE_EOF else {
            defer { archive_read_free(handle) }
            throw ArchiveError(path: path, "cannot read: \(TarWriter.message(handle))")
        }
        self.path = path
        archive = handle
        empty = status == ARCHIVE_EOF
    }

    deinit { archive_read_free(archive) }

    func read(into output: UnsafeMutableRawBufferPointer) throws -> Int {
        if empty { return 0 }
        let count = archive_read_data(archive, output.baseAddress, output.count)
        guard count >= 0 else { throw ArchiveError(path: path, "corrupt or truncated: \(TarWriter.message(archive))") }
        return count
    }
}
