import ArgumentParser
import Build
import Distribution
import Foundation
import HTTP
import OCI
import Registry
import Spark
import Store

extension Root {
    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push images from the local store to their registries.",
            discussion: """
                Examples:
                  spark-image-tool push registry.example.com/spark/spark:4.0.1 --tag latest --tag 4.0
                  spark-image-tool push -r registry.example.com/spark -t 4.0.1     # spark, spark-py and spark-r if built
                  spark-image-tool -r registry.example.com/spark -t 4.0.1 push     # docker-image-tool.sh's form
                """)

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var registry: RegistryOptionGroup

        @Argument(help: "Images to push; without them, -r (and -t) name spark, spark-py and spark-r.")
        var images: [String] = []

        @Option(name: .customLong("tag"), help: ArgumentHelp("Also push under this tag; repeatable.", valueName: "tag"))
        var extraTags: [String] = []

        @Option(name: .short, help: ArgumentHelp("Repository address, as with build.", valueName: "repo"))
        var r: String?

        @Option(name: .short, help: ArgumentHelp("Tag, as with build.", valueName: "tag"))
        var t: String?

        @Flag(name: .long, help: "Push each manifest by digest only, under no tag (merge them later with `index create`).")
        var pushByDigest = false

        @OptionGroup var output: JSONOutputOptions
        @OptionGroup var resultFiles: ResultFileOptions

        func validate() throws {
            if pushByDigest, !extraTags.isEmpty { throw ValidationError("--push-by-digest pushes under no tag; leave out --tag") }
        }

        func run() throws {
            let document = output.begin()
            let store = try storeOptions.open()
            let renderer = ProgressRenderer.forStandardOutput()
            let pusher = Pusher(session: registry.session(store: store, renderer: renderer))
            var report = PushCommandReport(pushes: [], notFound: [])
            var written: [(reference: ImageReference, descriptor: Descriptor)] = []
            for (source, present) in try sources(store: store) {
                guard present else {
                    // docker-image-tool.sh's words for an image that was not built.
                    print("\(source.familiarDescription) image not found. Skipping push for this image.")
                    report.notFound.append(source.description)
                    continue
                }
                guard let descriptor = try store.resolve(source) else { throw StoreError.notFound(source.description) }
                let targets = try Self.targets(for: source, digest: descriptor.digest, byDigest: pushByDigest) + extraTags.map { try source.withTag($0) }
                for result in try pusher.push(source, to: targets) {
                    Self.report(result)
                    report.pushes.append(PushReport(result))
                }
                written.append((targets[0], descriptor))
            }
            try resultFiles.write(written)
            try document?.write(report)
        }

        /// Where `source` goes: its own tag, or with `byDigest` its repository and digest alone.
        static func targets(for source: ImageReference, digest: Digest, byDigest: Bool) throws -> [ImageReference] {
            byDigest ? [try ImageReference(parsing: "\(source.name)@\(digest)")] : [source]
        }

        /// One line per pushed image: what was uploaded, mounted or already there.
        static func report(_ result: PushResult) {
            print("pushed \(result.references.map(\.familiarDescription).joined(separator: ", ")) \(result.digest): \(result.uploadedBlobs) blobs uploaded (\(formatBytes(result.uploadedBytes))), \(result.mountedBlobs) mounted, \(result.skippedBlobs) already there")
        }

        private func sources(store: Store) throws -> [(ImageReference, Bool)] {
            if !images.isEmpty {
                return try images.map { (try ImageReference(parsing: $0), true) }
            }
            guard r != nil else {
                // As docker-image-tool.sh: push without a repository prints the usage and fails.
                print(Root.helpMessage(for: Push.self))
                throw ExitCode.failure
            }
            let options = SparkBuildOptions(sparkHome: "", repository: r, tag: t)
            return try ImageVariant.allCases.map { variant in
                let reference = try options.reference(for: variant)
                return (reference, try store.resolve(reference) != nil)
            }
        }
    }

    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pull an image from its registry into the local store, verifying every blob.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var registry: RegistryOptionGroup

        @Argument(help: "The image, e.g. eclipse-temurin:17-jre.")
        var image: String

        @Option(name: .long, help: ArgumentHelp("Platform OS/ARCH (default: this machine's).", valueName: "platform"))
        var platform: String?

        @OptionGroup var output: JSONOutputOptions

        func run() throws {
            let document = output.begin()
            let store = try storeOptions.open()
            let reference = try ImageReference(parsing: image)
            let renderer = ProgressRenderer.forStandardOutput()
            let descriptor = try Puller(session: registry.session(store: store, renderer: renderer))
                .pull(reference, platform: try platform.map { try Platform(parsing: $0) } ?? .host)
            print("pulled \(reference.familiarDescription) \(descriptor.digest)")
            try document?.write(try ImageReport(reference: reference, descriptor: descriptor, store: store))
        }
    }

    struct Login: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check credentials against a registry and store them in the docker config, as docker login does.")

        @OptionGroup var registry: RegistryOptionGroup

        @Argument(help: "The registry host[:port].")
        var server: String

        @Option(name: .shortAndLong, help: "User name.")
        var username: String

        @Flag(name: .long, help: "Read the password from standard input.")
        var passwordStdin = false

        @Option(name: .shortAndLong, help: "The password (prefer --password-stdin: arguments are visible to other users).")
        var password: String?

        func run() throws {
            let secret: String
            if passwordStdin {
                secret = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .newlines)
            } else if let password {
                secret = password
            } else {
                throw ValidationError("give the password with --password-stdin (or --password)")
            }
            let credentials = Credentials(username: username, secret: secret)
            let options = registry.options()
            try RegistryClient(registry: server, options: options, http: HTTPClient(), credentials: credentials).checkLogin()
            try options.credentials.store(credentials, for: server)
            print("Login Succeeded")
        }
    }

    struct Logout: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove stored credentials for a registry.")

        @Argument(help: "The registry host[:port].")
        var server: String

        func run() throws {
            if try CredentialStore().erase(for: server) {
                print("Removing login credentials for \(server)")
            } else {
                print("Not logged in to \(server)")
            }
        }
    }
}
