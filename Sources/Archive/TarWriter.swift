import CArchive
import Foundation
import Support

/// Writes a tar stream into a sink through libarchive. The format is POSIX pax in its
/// restricted form: plain ustar headers, plus pax records only where ustar cannot hold a value
/// (long or non-ASCII names, large sizes), which keeps the output deterministic and portable.
public final class TarWriter {
    private let output: ArchiveOutput
    private var archive: OpaquePointer { output.handle }
    private var readBuffer = [UInt8](repeating: 0, count: 1 << 20)
    /// Called with the number of content bytes written, for progress.
    public var onBytes: ((Int64) -> Void)?

    public init(sink: any ByteSink) throws {
        _ = Self.utf8Locale
        output = try ArchiveOutput(sink: sink) { handle in
            archive_write_set_format_pax_restricted(handle)
            archive_write_add_filter_none(handle)
        }
    }

    /// libarchive converts names through the C locale's character set; with a UTF-8 LC_CTYPE a
    /// non-ASCII name becomes a plain pax `path` record, the same on every machine, instead of
    /// a locale-dependent `hdrcharset=BINARY` one.
    private static let utf8Locale: Bool = ["C.UTF-8", "C.utf8", "en_US.UTF-8"].contains { (name: String) in
        setlocale(LC_CTYPE, name) != nil
    }

    /// Appends one entry; for regular files, `contents` supplies exactly `entry.size` bytes.
    public func append(_ entry: TarEntry, contents: EntryContents = .none) throws {
        let header = try makeHeader(entry)
        defer { archive_entry_free(header) }
        try check(archive_write_header(archive, header), path: entry.path)
        switch contents {
        case .none:
            break
        case .bytes(let bytes):
            guard Int64(bytes.count) == entry.size else {
                throw ArchiveError(path: entry.path, "expected \(entry.size) bytes, got \(bytes.count)")
            }
            try bytes.withUnsafeBytes { try writeData($0, path: entry.path) }
        case .file(let path):
            try copyFile(at: path, expectedSize: entry.size)
        case .checkedFile(let path, let identity):
            try copyFile(at: path, expectedSize: entry.size, identity: identity)
        }
        try check(archive_write_finish_entry(archive), path: entry.path)
    }

    /// Appends an entry whose bytes are produced by `body`, for copying entries from another archive.
    public func append(_ entry: TarEntry, streaming body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let header = try makeHeader(entry)
        defer { archive_entry_free(header) }
        try check(archive_write_header(archive, header), path: entry.path)
        try body { try self.writeData($0, path: entry.path) }
        try check(archive_write_finish_entry(archive), path: entry.path)
    }

    /// Writes the end-of-archive blocks and finishes the sink.
    public func finish() throws {
        try output.close()
    }

    private func makeHeader(_ entry: TarEntry) throws -> OpaquePointer {
        guard let header = archive_entry_new() else { throw ArchiveError(path: entry.path, "libarchive: out of memory") }
        archive_entry_copy_pathname(header, entry.path)
        archive_entry_set_perm(header, mode_t(entry.mode & 0o7777))
        archive_entry_set_uid(header, la_int64_t(entry.uid))
        archive_entry_set_gid(header, la_int64_t(entry.gid))
        archive_entry_set_mtime(header, time_t(entry.mtime), 0)
        switch entry.kind {
        case .directory:
            archive_entry_set_filetype(header, carchive_ifdir)
        case .file(let size):
            archive_entry_set_filetype(header, carchive_ifreg)
            archive_entry_set_size(header, la_int64_t(size))
        case .symlink(let target):
            archive_entry_set_filetype(header, carchive_iflnk)
            archive_entry_copy_symlink(header, target)
        case .hardlink(let target):
            archive_entry_set_filetype(header, carchive_ifreg)
            archive_entry_copy_hardlink(header, target)
        case .special:
            archive_entry_free(header)
            throw ArchiveError(path: entry.path, "devices, FIFOs and sockets cannot be written to a layer")
        }
        return header
    }

    private func copyFile(at path: String, expectedSize: Int64, identity: FileIdentity? = nil) throws {
        let fd = try identity?.open(path) ?? open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError(path: path, "cannot read: \(errnoDescription())") }
        defer { close(fd) }
        var remaining = expectedSize
        while remaining > 0 {
            let count = try readBuffer.withUnsafeMutableBytes { buffer -> Int in
                let n = read(fd, buffer.baseAddress, min(buffer.count, Int(clamping: remaining)))
                if n < 0 && errno != EINTR { throw ArchiveError(path: path, "cannot read: \(errnoDescription())") }
                return max(n, 0)
            }
            if count == 0 { throw ArchiveError(path: path, "file shrank while it was being read; is something writing to it?") }
            try readBuffer.withUnsafeBytes { try writeData(UnsafeRawBufferPointer(rebasing: $0[..<count]), path: path) }
            remaining -= Int64(count)
        }
    }

    private func writeData(_ bytes: UnsafeRawBufferPointer, path: String?) throws {
        try output.writeData(bytes, path: path)
        onBytes?(Int64(bytes.count))
    }

    private func check(_ status: Int32, path: String?) throws {
        try output.check(status, path: path)
    }

    static func message(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}
