import CArchive
import Crypto
import Foundation
import Support

/// Reads a tar file entry by entry through libarchive, whatever its compression; gzip is
/// inflated by ISA-L and handed to libarchive decompressed.
public final class TarReader {
    public let path: String
    private let archive: OpaquePointer
    /// Made by the first `readData(_:)` (readers that list headers need none) and not zeroed:
    /// a zero-filled megabyte per reader cost more than reading a small archive.
    private var dataBuffer: UnsafeMutableRawBufferPointer?
    /// The decompressed bytes, when we feed libarchive ourselves (gzip, or hashing).
    private var stream: (any DecompressedStream)?
    /// SHA-256 of every byte `stream` gave, with `hashingStream`.
    private var hasher: SHA256?
    /// Where `stream` decompresses to, made on its first read. Handed to libarchive by pointer,
    /// so it lives outside Swift's copy-on-write storage.
    private var inflated: UnsafeMutableRawBufferPointer?
    private var streamError: ArchiveError?
    /// The bytes of an in-memory archive: libarchive reads them by pointer until deinit.
    private let memory: UnsafeMutableRawBufferPointer?

    /// - Parameters:
    ///   - raw: read the file as one decompressed stream instead of as a tar.
    ///   - hashingStream: also hash the whole decompressed stream as it is read, for
    ///     `streamDigestHex()`: a layer checked against its diff_id in the pass that unpacks it.
    public init(path: String, raw: Bool = false, hashingStream: Bool = false) throws {
        self.path = path
        // A stream we decompressed ourselves is not decompressed again: what is hashed is what is read.
        archive = try Self.newArchive(path: path, raw: raw, filters: !hashingStream)
        memory = nil
        // On failure deinit frees the handle: it runs because every property is set by now.
        if GzipFileReader.isGzip(path: path) {
            stream = try GzipFileReader(path: path)
        } else if hashingStream {
            stream = try RawStream(path: path)
        }
        if hashingStream { hasher = SHA256() }
        let opened: Int32
        if stream != nil {
            opened = archive_read_open(archive, Unmanaged.passUnretained(self).toOpaque(), nil, { _, context, buffer in
                let reader = Unmanaged<TarReader>.fromOpaque(context!).takeUnretainedValue()
                return reader.readNext(buffer!)
            }, nil)
        } else {
            opened = archive_read_open_filename(archive, path, 1 << 20)
        }
        guard opened == ARCHIVE_OK else { throw failure("cannot open") }
    }

    /// Reads a tar (compressed or not) held in memory; `name` stands for the path in errors.
    /// The bytes are copied, so the reader owns everything libarchive points to.
    public init(bytes: some Collection<UInt8>, name: String) throws {
        path = name
        archive = try Self.newArchive(path: name, raw: false, filters: true)
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        copy.copyBytes(from: bytes)
        memory = copy
        guard archive_read_open_memory(archive, copy.baseAddress, bytes.count) == ARCHIVE_OK else { throw failure("cannot open") }
    }

    static func newArchive(path: String, raw: Bool, filters: Bool) throws -> OpaquePointer {
        guard let archive = archive_read_new() else { throw ArchiveError(path: path, "libarchive: out of memory") }
        if filters { for enable in builtInFilters { _ = enable(archive) } }
        if raw {
            archive_read_support_format_raw(archive)
        } else {
            archive_read_support_format_tar(archive)
            archive_read_support_format_gnutar(archive)
        }
        return archive
    }

    /// libarchive's read callback: the next decompressed chunk, 0 at the end, -1 on error.
    private func readNext(_ buffer: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        do {
            let count = try readStream()
            buffer.pointee = UnsafeRawPointer(inflated!.baseAddress)
            return count
        } catch {
            streamError = error as? ArchiveError ?? ArchiveError(path: path, "\(error)")
            return -1
        }
    }

    /// The next chunk of the decompressed stream into `inflated`, hashed when asked.
    private func readStream() throws -> Int {
        let target = inflated ?? .allocate(byteCount: 1 << 20, alignment: 16)
        inflated = target
        let count = try stream!.read(into: target)
        hasher?.update(bufferPointer: UnsafeRawBufferPointer(rebasing: target[..<count]))
        return count
    }

    /// With `hashingStream`: the SHA-256 (hex) of the whole decompressed stream, read to its end
    /// now (libarchive stops at the end-of-archive blocks; whatever follows them is hashed too).
    public func streamDigestHex() throws -> String {
        guard hasher != nil else { preconditionFailure("TarReader(path:hashingStream: true) hashes the stream") }
        while try readStream() > 0 {}
        if let streamError { throw streamError }
        return SHA256Hex.hex(hasher!.finalize())
    }

    /// The decompressors libarchive has built in. `archive_read_support_filter_all` would also
    /// enable filters that run an external program (lrzip, grzip, or zstd and xz where the
    /// library lacks them): an archive's first bytes must never choose a program to run.
    /// A filter that falls back to a program answers ARCHIVE_WARN, tried on a scratch handle.
    private static let builtInFilters: [@Sendable (OpaquePointer) -> Int32] = {
        let candidates: [@Sendable (OpaquePointer) -> Int32] = [
            { archive_read_support_filter_gzip($0) }, { archive_read_support_filter_bzip2($0) },
            { archive_read_support_filter_xz($0) }, { archive_read_support_filter_zstd($0) },
        ]
        return candidates.filter { enable in
            guard let probe = archive_read_new() else { return false }
            defer { archive_read_free(probe) }
            return enable(probe) == ARCHIVE_OK
        }
    }()

    /// The device number and type of the last `.special` entry read, for unpackers that make
    /// device nodes; nil for sockets.
    public private(set) var node: DeviceNode?

    /// The decompressor's error if it failed, else libarchive's.
    private func failure(_ what: String) -> ArchiveError {
        streamError ?? ArchiveError(path: path, "\(what): \(TarWriter.message(archive))")
    }

    deinit {
        archive_read_free(archive)
        inflated?.deallocate()
        dataBuffer?.deallocate()
        memory?.deallocate()
    }

    /// The next entry's header, or nil at the end of the archive.
    public func next() throws -> TarEntry? {
        var header: OpaquePointer?
        let status = archive_read_next_header(archive, &header)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let header else {
            throw failure("not a readable tar archive")
        }
        return try entry(from: header)
    }

    /// Streams the current entry's data.
    public func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = dataBuffer ?? .allocate(byteCount: 1 << 20, alignment: 16)
        dataBuffer = buffer
        while true {
            let count = archive_read_data(archive, buffer.baseAddress, buffer.count)
            if count == 0 { return }
            guard count > 0 else { throw failure("corrupt or truncated archive") }
            // Only the bytes libarchive just wrote.
            try body(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
        }
    }

    /// Fills `buffer` with the current entry's next bytes; 0 at its end. For readers that pull
    /// (a zip read from inside a layer).
    public func readData(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = archive_read_data(archive, buffer.baseAddress, buffer.count)
        guard count >= 0 else { throw failure("corrupt or truncated archive") }
        return count
    }

    public func readAll() throws -> [UInt8] {
        var bytes: [UInt8] = []
        try readData { bytes.append(contentsOf: $0) }
        return bytes
    }

    private func entry(from header: OpaquePointer) throws -> TarEntry {
        node = nil
        let name = archive_entry_pathname_utf8(header) ?? archive_entry_pathname(header)
        let path = name.map { String(cString: $0) } ?? ""
        let kind: TarEntry.Kind
        if let hardlink = archive_entry_hardlink_utf8(header) ?? archive_entry_hardlink(header) {
            kind = .hardlink(target: String(cString: hardlink))
        } else {
            switch UInt32(archive_entry_filetype(header)) {
            case carchive_ifdir: kind = .directory
            case carchive_ifreg: kind = .file(size: archive_entry_size(header))
            case carchive_iflnk:
                let target = archive_entry_symlink_utf8(header) ?? archive_entry_symlink(header)
                kind = .symlink(target: target.map { String(cString: $0) } ?? "")
            default:
                kind = .special
                node = DeviceNode(header)
            }
        }
        return TarEntry(path: path, kind: kind, mode: UInt32(archive_entry_perm(header)),
                        uid: Int(archive_entry_uid(header)), gid: Int(archive_entry_gid(header)),
                        mtime: Int64(archive_entry_mtime(header)))
    }
}

/// A character or block device, or a FIFO, as `mknod` wants it.
public struct DeviceNode: Sendable, Equatable {
    /// `S_IFCHR`, `S_IFBLK` or `S_IFIFO`.
    public var type: mode_t
    public var device: dev_t

    init?(_ header: OpaquePointer) {
        switch UInt32(archive_entry_filetype(header)) {
        case carchive_ifchr: type = S_IFCHR
        case carchive_ifblk: type = S_IFBLK
        case carchive_ififo: type = S_IFIFO
        default: return nil
        }
        device = Self.makedev(major: UInt64(archive_entry_rdevmajor(header)), minor: UInt64(archive_entry_rdevminor(header)))
    }

    /// glibc's `makedev`, a macro Swift cannot import.
    static func makedev(major: UInt64, minor: UInt64) -> dev_t {
        let high: UInt64 = ((major & 0xffff_f000) << 32) | ((minor & 0xffff_ff00) << 12)
        let low: UInt64 = ((major & 0xfff) << 8) | (minor & 0xff)
        return dev_t(high | low)
    }
}
