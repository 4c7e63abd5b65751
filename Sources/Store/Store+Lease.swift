import Foundation
import Support

/// A shared lock on the store, held by a command that writes blobs it has not tagged yet (a
/// build, a pull): `gc` takes the same lock exclusively, so it never removes such blobs and
/// never runs beside a writer. Owns the lock's file descriptor; the lock ends with it.
final class StoreLease: Sendable {
    private let descriptor: Int32

    init(root: String, exclusive: Bool) throws(StoreError) {
        let path = "\(root)/writers.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path, "cannot open the store's lock: \(errnoDescription())") }
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            guard errno == EINTR else {
                let reason = errnoDescription()
                close(fd)
                throw .io(path, "cannot lock the store: \(reason)")
            }
        }
        descriptor = fd
    }

    deinit { close(descriptor) }
}

extension Store {
    /// This store, holding the writers' lock for as long as the returned value (or a copy) lives.
    /// Waits while a `gc` runs.
    public func holdingWriterLock() throws(StoreError) -> Store {
        var leased = self
        leased.lease = try StoreLease(root: root, exclusive: false)
        return leased
    }

    /// Runs `body` with the store to itself: no writer holds the lock meanwhile. A store that
    /// holds the writers' lock would wait for itself, so it may not call this.
    func exclusively<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        precondition(lease == nil, "a store holding the writers' lock cannot collect garbage")
        let lock = try StoreLease(root: root, exclusive: true)
        return try withExtendedLifetime(lock) { () throws(StoreError) -> T in try body() }
    }
}
