import ArgumentParser
import Distribution
import Foundation
import OCI

extension Root {
    struct Index: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Work with image indexes (multi-platform images) in a registry.",
            subcommands: [Create.self])
    }
}

extension Root.Index {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put one index listing images pushed by digest (one per platform, e.g. from several CI jobs), and tag it.",
            discussion: """
                Each entry's size, media type and platform are read from the registry (the platform from the image's config).
                Sources in another repository of the same registry are mounted into the index's repository.
                Example:
                  spark-image-tool index create registry.example.com/spark/spark:4.0.1 \\
                      --from registry.example.com/spark/spark@sha256:… --from registry.example.com/spark/spark@sha256:…
                """)

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var registry: RegistryOptionGroup
        @OptionGroup var output: JSONOutputOptions
        @OptionGroup var resultFiles: ResultFileOptions

        @Argument(help: "The index to create, REPOSITORY:TAG.")
        var reference: String

        @Option(name: .customLong("from"), help: ArgumentHelp("An image pushed by digest, REPOSITORY@sha256:…; repeat for each platform.", valueName: "image"))
        var sources: [String] = []

        func validate() throws {
            guard !sources.isEmpty else { throw ValidationError("give the images to merge with --from REPOSITORY@sha256:…") }
        }

        func run() throws {
            let document = output.begin()
            let store = try storeOptions.open()
            let target = try ImageReference(parsing: reference)
            let renderer = ProgressRenderer.forStandardOutput()
            let merged = try IndexMerger(session: registry.session(store: store, renderer: renderer))
                .merge(try sources.map { try ImageReference(parsing: $0) }, into: target)
            print("created \(target.familiarDescription) \(merged.descriptor.digest): \(merged.manifests.compactMap { $0.platform?.description }.joined(separator: ", "))")
            try resultFiles.write([(target, merged.descriptor)])
            try document?.write(IndexReport(merged))
        }
    }
}
