import FuzzSupport
import OCI

/// Decodes the input as a manifest, an index and a config, as the store and a pull do; whatever
/// decodes must encode again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzInput(data, size)
    if let manifest = try? CanonicalJSON.decode(ImageManifest.self, from: bytes) { _ = try? CanonicalJSON.encode(manifest) }
    if let index = try? CanonicalJSON.decode(ImageIndex.self, from: bytes) { _ = try? CanonicalJSON.encode(index) }
    if let config = try? CanonicalJSON.decode(ImageConfig.self, from: bytes) { _ = try? CanonicalJSON.encode(config) }
    return 0
}

runLibFuzzer(fuzz)
