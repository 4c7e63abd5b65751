import CArchive
import Crypto
import Foundation
import Support

/// One stage of a streaming pipeline: bytes go in, and (for filters) come out into the next stage.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Flushes everything buffered into the next stage and finishes it.
    func finish() throws
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// Counts and SHA-256-hashes what passes through.
public final class HashingSink: ByteSink {
    private let next: any ByteSink
    private var hasher = SHA256()
    public private(set) var byteCount: Int64 = 0
    public private(set) var digestHex: String?

    public init(next: any ByteSink) { self.next = next }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: bytes)
        byteCount += Int64(bytes.count)
        try next.write(bytes)
    }

    public func finish() throws {
        digestHex = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        try next.finish()
    }
}

/// Discards bytes; for hashing without storing.
public final class NullSink: ByteSink {
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws {}
    public func finish() throws {}
}

/// Buffered writes to a new file. The file must not exist: callers write to a fresh temporary name
/// and rename it into place, so a half-written file never appears under its final name.
///
/// The store fsyncs every blob before renaming it; so that this fsync finds little left to do,
/// the sink asks the kernel to start writing back each 8 MiB as soon as it is written
/// (`sync_file_range`, no waiting), overlapping the disk with the work that produces the bytes.
public final class FileSink: ByteSink {
    public let path: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let capacity = 1 << 20
    private static let writeBehindStep: Int64 = 8 << 20
    private var written: Int64 = 0
    private var writeBackStarted: Int64 = 0

    public init(creating path: String, mode: mode_t = 0o644) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ArchiveError(path: path, "cannot create: \(errnoDescription())") }
        buffer.reserveCapacity(capacity)
    }

    deinit { if fd >= 0 { close(fd) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > capacity { try flush() }
        if bytes.count >= capacity {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    public func finish() throws {
        try flush()
        guard close(fd) == 0 else {
            fd = -1
            throw ArchiveError(path: path, "cannot close: \(errnoDescription())")
        }
        fd = -1
    }

    private func flush() throws {
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw ArchiveError(path: path, "cannot write: \(errnoDescription())")
            }
            offset += count
        }
        written += Int64(bytes.count)
        startWriteBack()
    }

    /// A hint only: where the call is not supported (tmpfs, old kernels) nothing is lost.
    private func startWriteBack() {
        guard written - writeBackStarted >= Self.writeBehindStep else { return }
        _ = carchive_start_writeback(fd, writeBackStarted, written - writeBackStarted)
        writeBackStarted = written
    }
}

/// Collects bytes in memory; only for small things such as JSON documents and tests.
public final class MemorySink: ByteSink {
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
    public func finish() throws {}
}
