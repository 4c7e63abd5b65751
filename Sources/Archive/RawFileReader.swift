import Foundation
import Support

/// Reads a file in large chunks, for hashing or copying blobs without holding them in memory.
public final class RawFileReader {
    public let path: String
    private let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError(path: path, "cannot read: \(errnoDescription())") }
    }

    deinit { close(fd) }

    public func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ArchiveError(path: path, "cannot read: \(errnoDescription())")
            }
            if count == 0 { return }
            try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
    }
}
