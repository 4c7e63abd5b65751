import Foundation

public enum AtomicFileFailure {}
public typealias AtomicFileError = ModuleError<AtomicFileFailure>

/// Replaces a small file whole: the new content goes to a sibling created with `mode` (so a
/// file of secrets is never readable by others, not even for a moment), is fsynced, and is
/// renamed over the old file; on any failure the sibling is removed.
public enum AtomicFile {
    public static func replace(_ path: String, with bytes: [UInt8], mode: mode_t) throws(AtomicFileError) {
        let temporary = "\(path).\(UUID().uuidString).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        do throws(AtomicFileError) {
            defer { close(fd) }
            try writeAll(bytes, to: fd, path: temporary)
            guard fsync(fd) == 0 else { throw failure("cannot write \(temporary)") }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot replace \(path)")
            unlink(temporary)
            throw error
        }
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(AtomicFileError) {
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw failure("cannot write \(path)") }
            written += count
        }
    }

    private static func failure(_ what: String) -> AtomicFileError {
        AtomicFileError("\(what): \(errnoDescription())")
    }
}
