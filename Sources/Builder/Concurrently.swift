import Foundation

/// Runs `body` over `items` on up to `width` threads and rethrows the first error once all
/// have finished. The registry work is blocking I/O, so threads, not cores, bound it.
func concurrently<T: Sendable>(_ items: [T], width: Int, _ body: @escaping @Sendable (T) throws -> Void) throws {
    let group = DispatchGroup()
    let slots = DispatchSemaphore(value: max(1, width))
    let firstError = LockedValue<(any Error)?>(nil)
    for item in items {
        slots.wait()
        if firstError.value != nil {
            slots.signal()
            break
        }
        DispatchQueue.global().async(group: group) {
            defer { slots.signal() }
            do { try body(item) } catch { firstError.update { $0 = $0 ?? error } }
        }
    }
    group.wait()
    if let error = firstError.value { throw error }
}

/// A value shared between threads behind a lock.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value { lock.withLock { stored } }

    func update<R>(_ change: (inout Value) -> R) -> R { lock.withLock { change(&stored) } }
}
