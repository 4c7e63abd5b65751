import Foundation
import OCI
import Support

/// An error talking to a registry: what was attempted, the HTTP status and the registry's own
/// error codes and messages, and what to do about it. Never holds a credential or token.
public struct RegistryError: HintedError, Equatable, Sendable {
    public var message: String
    public var hint: String?
    public var status: Int?
    public var codes: [String]
    public var failureKind: FailureKind

    public init(_ message: String, hint: String? = nil, status: Int? = nil, codes: [String] = [], kind: FailureKind = .userError) {
        self.message = message
        self.hint = hint
        self.status = status
        self.codes = codes
        self.failureKind = kind
    }

    public static func configuration(_ message: String) -> RegistryError { RegistryError(message) }

}

/// The body of an error response: `{"errors":[{"code":"…","message":"…","detail":…}]}`.
struct RegistryErrorBody: Decodable {
    struct Entry: Decodable {
        var code: String?
        var message: String?
    }

    var errors: [Entry]?

    /// "MANIFEST_INVALID: manifest invalid" lines, or the first bytes of a non-JSON body.
    static func summary(of body: [UInt8]) -> (text: String, codes: [String]) {
        if let parsed = try? CanonicalJSON.decode(RegistryErrorBody.self, from: body), let errors = parsed.errors, !errors.isEmpty {
            let text = errors.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: ": ") }.joined(separator: "; ")
            return (text, errors.compactMap(\.code))
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return (text, [])
    }
}
