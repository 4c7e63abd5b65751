import ArgumentParser
import Foundation
import OCI
import Store

extension Root {
    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give a stored image another name in the local store (docker tag).")

        @OptionGroup var storeOptions: StoreOptions

        @Argument(help: "The image in the local store.")
        var source: String

        @Argument(help: "The new name.")
        var target: String

        func run() throws {
            let store = try storeOptions.open()
            let source = try ImageReference(parsing: source), target = try ImageReference(parsing: target)
            guard let descriptor = try store.resolve(source) else { throw StoreError.notFound(source.description) }
            try store.tag(descriptor, as: target)
            print("tagged \(target.familiarDescription) \(descriptor.digest)")
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the instructions that made a stored image's layers, newest first (docker history).")

        @OptionGroup var stored: StoredImageOptions
        @OptionGroup var output: JSONOutputOptions

        func run() throws {
            let document = output.begin()
            let image = try stored.load()
            if let document { return try document.write(HistoryReport(reference: try stored.reference(), image: image)) }
            var rows = [["LAYER", "SIZE", "CREATED BY"]]
            for step in Self.steps(of: image).reversed() {
                rows.append([step.layer.map { String($0.digest.encoded.prefix(12)) } ?? "-", step.layer.map { formatBytes($0.size) } ?? "0 B",
                             step.createdBy])
            }
            printTable(rows)
        }

        /// Each history entry with the layer it made (none for an empty layer), in order.
        static func steps(of image: StoredImage) -> [(createdBy: String, layer: Descriptor?)] {
            var layers = image.manifest.layers.makeIterator()
            return (image.config.history ?? []).map { entry in
                (entry.createdBy ?? "", entry.emptyLayer == true ? nil : layers.next())
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a stored image: its manifest digest, platform, config and layers with the instruction that made each.")

        @OptionGroup var stored: StoredImageOptions
        @OptionGroup var output: JSONOutputOptions

        func run() throws {
            let document = output.begin()
            let reference = try stored.reference()
            let image = try stored.load()
            if let document { return try document.write(InspectReport(reference: reference, image: image)) }
            let container = image.config.config ?? ContainerConfig()
            print("""
                Image:       \(reference.familiarDescription)
                Digest:      \(image.manifestDescriptor.digest)
                Platform:    \(image.config.platform)
                Size:        \(formatBytes(image.contentSize)) in \(image.manifest.layers.count) layers
                User:        \(container.user ?? "")
                WorkingDir:  \(container.workingDir ?? "")
                Entrypoint:  \(container.entrypoint?.joined(separator: " ") ?? "")
                Cmd:         \(container.cmd?.joined(separator: " ") ?? "")
                Env:
                """)
            for entry in container.env ?? [] { print("  \(entry)") }
            for (key, value) in (image.manifest.annotations ?? [:]).sorted(by: { $0.key < $1.key }) { print("Annotation:  \(key)=\(value)") }
            print("Layers:")
            for (createdBy, layer) in History.steps(of: image) {
                guard let layer else { continue }
                print("  \(layer.digest)  \(formatBytes(layer.size))  \(createdBy)")
            }
        }
    }
}

/// One image of the local store, and the platform to read of a multi-platform one.
struct StoredImageOptions: ParsableArguments {
    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "The platform of a multi-platform image (default: this machine's).")
    var platform: String?

    @Argument(help: "The image in the local store.")
    var image: String

    func reference() throws -> ImageReference { try ImageReference(parsing: image) }

    func load() throws -> StoredImage {
        try storeOptions.open().image(try reference(), platform: try platform.map { try Platform(parsing: $0) } ?? .host)
    }
}
