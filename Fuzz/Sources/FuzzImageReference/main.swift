import FuzzSupport
import OCI

/// Parses the input as an image reference; a parsed one must print as something that parses to
/// the same reference.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzInput(data, size), as: UTF8.self)
    guard let reference = try? ImageReference(parsing: text) else { return 0 }
    guard let again = try? ImageReference(parsing: reference.description), again == reference else {
        fatalError("\(reference) does not round-trip (from \(text.debugDescription))")
    }
    _ = reference.familiarDescription
    _ = try? reference.withTag("fuzz")
    return 0
}

runLibFuzzer(fuzz)
