import Archive
import FuzzSupport

/// Reads the input as a (possibly compressed) tar through a memory source: every header and every
/// entry's data, as the unpacker and the layer listing do.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    do {
        let reader = try TarReader(bytes: fuzzInput(data, size), name: "fuzz.tar")
        while let entry = try reader.next() {
            _ = entry.path
            try reader.readData { _ in }
        }
    } catch {}
    return 0
}

runLibFuzzer(fuzz)
