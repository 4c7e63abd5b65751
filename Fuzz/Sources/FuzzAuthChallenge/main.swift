import FuzzSupport
import Registry

/// Parses the input as a `WWW-Authenticate` header value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzInput(data, size), as: UTF8.self)
    if let challenge = AuthChallenge(header: text) {
        _ = (challenge.realm, challenge.service, challenge.scope)
    }
    return 0
}

runLibFuzzer(fuzz)
