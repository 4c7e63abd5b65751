import ArgumentParser
import Foundation
import ImageFormats
import OCI
import Store

struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The local image store (an OCI image layout).", valueName: "dir"))
    var store: String = Store.defaultRoot

    /// The store, holding the writers' lock for the command's lifetime (gc waits for it).
    func open() throws -> Store { try Store(root: store).holdingWriterLock() }

    /// The store without the writers' lock: `gc` takes it exclusively itself.
    func openForCollection() throws -> Store { try Store(root: store) }
}

extension ManifestFormat: ExpressibleByArgument {}
extension LayerCompression: ExpressibleByArgument {}
extension ArchiveFormat: ExpressibleByArgument {}

/// SOURCE_DATE_EPOCH, the reproducible-builds convention for timestamps; 0 when unset.
func sourceDateEpoch() throws -> Int64 {
    guard let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], !text.isEmpty else { return 0 }
    guard let epoch = Int64(text), epoch >= 0 else {
        throw ValidationError("SOURCE_DATE_EPOCH='\(text)' is not a whole number of seconds since 1970")
    }
    return epoch
}
