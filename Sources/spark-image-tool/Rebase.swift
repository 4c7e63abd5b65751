import ArgumentParser
import Build
import Distribution
import Foundation
import OCI

extension Root {
    struct RebaseCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rebase",
            abstract: "Put a built image on a newer base (a patched JRE) without rebuilding: the Spark layers stay the same blobs.",
            discussion: """
                The old base is the one the image's org.opencontainers.image.base.name annotation names, or --old-base.
                The new base must be of the same platform; fields of the config the build did not change (Env, User,
                WorkingDir, Entrypoint/Cmd) take the new base's values, the build's own ENV stay on top.
                Examples:
                  spark-image-tool rebase registry.example.com/spark/spark:4.0.1 --base rootfs:jre-17.0.16.tar --old-base rootfs:jre-17.0.15.tar --push
                  spark-image-tool rebase spark-py:4.0.1 --base eclipse-temurin:17-jre --tag 4.0.1-patched
                """)

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var registry: RegistryOptionGroup

        @Argument(help: "The image in the local store.")
        var image: String

        @Option(help: ArgumentHelp("The new base, in --base's forms (a reference, rootfs:FILE, oci-layout:DIR, …).", valueName: "base"))
        var base: String

        @Option(name: .customLong("old-base"), help: ArgumentHelp("The base the image was built on, when its annotations do not say.", valueName: "base"))
        var oldBase: String?

        @Option(help: ArgumentHelp("Tag the result under this tag instead of replacing the image's own.", valueName: "tag"))
        var tag: String?

        @Option(help: "The platform of a multi-platform image (default: this machine's).")
        var platform: String?

        @Flag(help: "Push the rebased image; only the new base's layers are uploaded.")
        var push = false

        @OptionGroup var output: JSONOutputOptions

        func run() throws {
            let document = output.begin()
            let store = try storeOptions.open()
            let renderer = ProgressRenderer.forStandardOutput()
            let session = registry.session(store: store, renderer: renderer)
            let source = try ImageReference(parsing: image)
            let target = try tag.map { try source.withTag($0) } ?? source
            let rebased = try Rebase(store: store, settings: LayerSettings(epoch: try sourceDateEpoch()), puller: Puller(session: session))
                .rebase(source, onto: base, oldBase: oldBase, as: target, platform: try platform.map { try Platform(parsing: $0) } ?? .host)
            print("\(target.familiarDescription)  \(rebased.digest)  rebased onto \(base)")
            var report = RebaseReport(image: try ImageReport(reference: target, descriptor: rebased, store: store), base: base)
            if push {
                let results = try Pusher(session: session).push(target, to: [target])
                results.forEach(Push.report)
                report.pushes = results.map(PushReport.init)
            }
            try document?.write(report)
        }
    }
}
