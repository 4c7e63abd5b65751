/// When to try a request again: network errors, 408, 429 and 5xx, with exponential backoff
/// and jitter, honouring Retry-After. A plain value type that returns decisions, so it is
/// tested without sockets.
public struct RetryPolicy: Sendable, Equatable {
    public var maxRetries: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxRetries: Int = 5, baseDelay: Double = 0.5, maxDelay: Double = 30) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public enum Outcome: Sendable, Equatable {
        case status(Int, retryAfter: String?)
        case networkError(retryable: Bool)
    }

    public enum Decision: Sendable, Equatable {
        case retry(afterSeconds: Double)
        case giveUp
    }

    /// `attempt` counts from 1 (the first try); `jitter` is a random number in 0..<1.
    public func decide(attempt: Int, outcome: Outcome, jitter: Double) -> Decision {
        guard attempt <= maxRetries else { return .giveUp }
        switch outcome {
        case .networkError(let retryable):
            return retryable ? .retry(afterSeconds: backoff(attempt, jitter)) : .giveUp
        case .status(let code, let retryAfter):
            guard code == 408 || code == 429 || (500...599).contains(code) else { return .giveUp }
            if let seconds = retryAfter.flatMap(Double.init), seconds >= 0 {
                return .retry(afterSeconds: min(seconds, maxDelay))
            }
            return .retry(afterSeconds: backoff(attempt, jitter))
        }
    }

    /// Full jitter over an exponential ceiling: base·2^(attempt-1), at most maxDelay.
    private func backoff(_ attempt: Int, _ jitter: Double) -> Double {
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(attempt - 1, 20)))
        return ceiling / 2 + ceiling / 2 * jitter
    }
}
