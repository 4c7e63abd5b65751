import Foundation
import Synchronization

/// Runs `body` over `items` on up to `width` threads and rethrows the first error once all
/// have finished. The registry work is blocking I/O, so threads, not cores, bound it.
public func concurrently<T: Sendable>(_ items: [T], width: Int, _ body: @escaping @Sendable (T) throws -> Void) throws {
    let group = DispatchGroup()
    let slots = DispatchSemaphore(value: max(1, width))
    let firstError = Mutex<(any Error)?>(nil)
    for item in items {
        slots.wait()
        if firstError.withLock({ $0 != nil }) {
            slots.signal()
            break
        }
        DispatchQueue.global().async(group: group) {
            defer { slots.signal() }
            do { try body(item) } catch { firstError.withLock { $0 = $0 ?? error } }
        }
    }
    group.wait()
    if let error = firstError.withLock({ $0 }) { throw error }
}

/// A value shared between threads behind a `Mutex`, for classes that hold one beside other
/// immutable state.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    public var value: Value { mutex.withLock { $0 } }

    public func update<R: Sendable>(_ change: (inout sending Value) throws -> sending R) rethrows -> R {
        try mutex.withLock { try change(&$0) }
    }
}

/// Runs `other` on another thread while `body` runs on this one, and returns both results once
/// both have finished; an error of `other` comes before one of `body`.
public func inParallel<A: Sendable, B>(_ other: @escaping @Sendable () throws -> A, _ body: () throws -> B) throws -> (A, B) {
    let otherResult = Mutex<Result<A, any Error>?>(nil)
    let finished = DispatchGroup()
    finished.enter()
    DispatchQueue.global().async {
        let result = Result { try other() }
        otherResult.withLock { $0 = result }
        finished.leave()
    }
    let bodyResult = Result { try body() }
    finished.wait()
    let first = try otherResult.withLock { $0! }.get()
    return (first, try bodyResult.get())
}
