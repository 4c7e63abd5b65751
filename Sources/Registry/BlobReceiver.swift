/// Hands a downloaded blob to its sink exactly once and never past its descriptor's size.
/// A retried GET starts again at byte 0: the bytes the sink already has are skipped rather
/// than appended a second time.
final class BlobReceiver: @unchecked Sendable {
    // @unchecked: one transfer at a time calls it, from the thread that runs the request.
    private let size: Int64
    private let what: String
    private let write: @Sendable (UnsafeRawBufferPointer) throws -> Void
    /// Bytes the sink has.
    private(set) var delivered: Int64 = 0
    /// Where the current response body is.
    private var position: Int64 = 0

    init(size: Int64, what: String, write: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) {
        self.size = size
        self.what = what
        self.write = write
    }

    /// A new response body begins at byte 0.
    func restart() { position = 0 }

    func receive(_ bytes: UnsafeRawBufferPointer) throws {
        let end = position + Int64(bytes.count)
        defer { position = end }
        guard end > delivered else { return }
        guard end <= size else {
            throw RegistryError("\(what): the registry sent more than the \(size) bytes its descriptor says; refusing it",
                                hint: "the registry serves content that does not match the image's manifest")
        }
        try write(UnsafeRawBufferPointer(rebasing: bytes[Int(delivered - position)...]))
        delivered = end
    }

    /// After the body ended: all of it arrived.
    func checkComplete() throws {
        guard delivered == size else {
            throw RegistryError("\(what): the registry sent \(delivered) bytes, the descriptor says \(size); refusing it",
                                hint: "the registry serves content that does not match the image's manifest")
        }
    }
}
