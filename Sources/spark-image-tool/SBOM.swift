import ArgumentParser
import Build
import Distribution
import Foundation
import OCI
import Registry
import Store

extension Root {
    struct SBOMCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sbom",
            abstract: "Print an SPDX 2.3 JSON document of an image's software: jars with Maven coordinates, Python packages, Debian packages.",
            discussion: """
                From the local store by default. With --from-registry, fetches the SBOM that `build --sbom --push`
                attached to the image in its registry (an OCI referrer, listed through the referrers API or the
                sha256-<hex> tag schema).
                """)

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var registry: RegistryOptionGroup

        @Option(help: "The platform of a multi-platform image (default: this machine's).")
        var platform: String?

        @Flag(help: "Fetch the SBOM attached to the image in its registry instead of reading the stored image.")
        var fromRegistry = false

        @Argument(help: "The image.")
        var image: String

        func run() throws {
            let store = try storeOptions.open()
            let reference = try ImageReference(parsing: image)
            let platform = try platform.map { try Platform(parsing: $0) } ?? .host
            let document: [UInt8]
            if fromRegistry {
                document = try Self.fetch(reference, platform: platform,
                                          referrers: Referrers(session: RegistrySession(options: registry.options(), store: store, events: { _ in })))
            } else {
                document = try ImageInventory(store: store).document(try store.image(reference, platform: platform), name: reference.name, tag: reference.tag)
            }
            FileHandle.standardOutput.write(Data(document))
        }

        /// The newest SPDX referrer of the image's manifest for `platform`.
        static func fetch(_ reference: ImageReference, platform: Platform, referrers: Referrers) throws -> [UInt8] {
            let client = referrers.session.client(for: reference.registry)
            var fetched = try client.manifest(reference.digest?.description ?? reference.tag ?? "latest", repository: reference.repository)
            if MediaType.isIndex(fetched.mediaType) {
                let index = try CanonicalJSON.decode(ImageIndex.self, from: fetched.bytes)
                guard let entry = index.manifests.first(where: { $0.platform.map(platform.matches) ?? false }) else {
                    throw RegistryError("\(reference) has no image for \(platform)", hint: "choose one with --platform")
                }
                fetched = try client.manifest(entry.digest.description, repository: reference.repository)
            }
            let found = try referrers.list(fetched.digest, in: reference).filter { $0.artifactType == MediaType.spdxJSON }
            guard let artifact = found.last else {
                throw RegistryError("\(reference) (\(fetched.digest)) has no SPDX SBOM attached",
                                    hint: "build it with `build --sbom --push`, or print one from the local store with `sbom \(reference.familiarDescription)`")
            }
            return try referrers.fetchArtifact(artifact.digest, in: reference)
        }
    }
}
