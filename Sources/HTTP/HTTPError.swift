import CCurl
import Support

/// A transfer that did not produce a response. HTTP statuses, even 5xx, are responses, not errors.
public struct HTTPError: HintedError, Sendable {
    public enum Kind: String, Sendable {
        case couldNotResolveHost
        case couldNotConnect
        /// Handshake or certificate failure. Trusting a CA or marking a registry insecure
        /// is the caller's advice to give; `message` holds curl's reason.
        case tls
        case timedOut
        case sendFailed
        case receiveFailed
        /// A body or progress closure threw; `underlying` is what it threw.
        case aborted
        /// A collected response body went past its limit.
        case responseTooLarge
        case other
    }

    public var kind: Kind
    /// The request URL without user name or password.
    public var url: String
    public var message: String
    public var underlying: (any Error)?

    public init(kind: Kind, url: String = "", message: String, underlying: (any Error)? = nil) {
        self.kind = kind
        self.url = url
        self.message = message
        self.underlying = underlying
    }

    /// Network failures may pass on a second try; a name that does not resolve or a
    /// certificate that is not trusted will not.
    public var isRetryable: Bool {
        switch kind {
        case .couldNotConnect, .timedOut, .sendFailed, .receiveFailed: true
        case .couldNotResolveHost, .tls, .aborted, .responseTooLarge, .other: false
        }
    }

    public var hint: String? { nil }

    public var failureKind: FailureKind {
        switch kind {
        case .couldNotResolveHost, .couldNotConnect, .timedOut: .unreachable
        default: .userError
        }
    }

    public var description: String {
        let reason = underlying.map { "\($0)" } ?? message
        return url.isEmpty ? reason : "\(url): \(reason)"
    }

    static func aborted(by error: any Error) -> HTTPError {
        if let error = error as? HTTPError { return error }
        return HTTPError(kind: .aborted, message: "\(error)", underlying: error)
    }

    init(code: CURLcode, message: String, url: String) {
        self.init(kind: Self.kind(of: code), url: url, message: message)
    }

    private static func kind(of code: CURLcode) -> Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            .couldNotResolveHost
        case CURLE_COULDNT_CONNECT:
            .couldNotConnect
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_CRL_BADFILE, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED:
            .tls
        case CURLE_OPERATION_TIMEDOUT:
            .timedOut
        case CURLE_SEND_ERROR, CURLE_SEND_FAIL_REWIND, CURLE_UPLOAD_FAILED:
            .sendFailed
        case CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            .receiveFailed
        default:
            .other
        }
    }
}
