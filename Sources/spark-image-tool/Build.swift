import ArgumentParser
import Build
import Distribution
import Foundation
import OCI
import Spark
import Store

extension Root {
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the spark (and spark-py, spark-r) images from a Spark distribution into the local store.",
            discussion: """
                Examples:
                  spark-image-tool build --spark-home ~/spark-4.0.1-bin-hadoop3 -r registry.example.com/spark -t 4.0.1 \\
                      --base rootfs:java-base.tar --python
                  spark-image-tool -r registry.example.com/spark -t 4.0.1 -p kubernetes/dockerfiles/spark/bindings/python/Dockerfile build
                """)

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var registry: RegistryOptionGroup

        @Option(name: .long, help: ArgumentHelp("The Spark distribution: a release, a source build or a pip-installed pyspark. Default: $SPARK_HOME, else the current directory.", valueName: "dir"))
        var sparkHome: String?

        @Option(name: .short, help: ArgumentHelp("Repository address, prefixed to the image names.", valueName: "repo"))
        var r: String?

        @Option(name: .short, help: ArgumentHelp("Tag of the built images (default: latest).", valueName: "tag"))
        var t: String?

        @Option(name: .short, help: ArgumentHelp("Dockerfile for the JVM image (default: the built-in one).", valueName: "file"))
        var f: String?

        @Option(name: .short, help: ArgumentHelp("Dockerfile for the PySpark image; builds spark-py.", valueName: "file"))
        var p: String?

        @Option(name: .customShort("R"), help: ArgumentHelp("Dockerfile for the SparkR image; builds spark-r.", valueName: "file"))
        var rDockerfile: String?

        @Flag(name: .long, help: "Also build spark-py with the built-in Dockerfile.")
        var python = false

        @Flag(name: .customLong("r"), help: "Also build spark-r with the built-in Dockerfile.")
        var sparkR = false

        @Option(name: .short, help: ArgumentHelp("The UID Spark runs as in the images (build arg spark_uid, default 185).", valueName: "uid"))
        var u: String?

        @Option(name: .short, parsing: .singleValue, help: ArgumentHelp("A build arg KEY=VALUE; repeat for more.", valueName: "arg"))
        var b: [String] = []

        @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("A secret for RUN --mount=type=secret: id=ID,src=FILE (as docker build --secret); never stored in a layer or the cache. Repeatable.", valueName: "secret"))
        var secret: [String] = []

        @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("A label KEY=VALUE for the image config (as docker build --label); org.opencontainers.image.source and .revision also annotate the manifest. Repeatable.", valueName: "label"))
        var label: [String] = []

        @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("An annotation KEY=VALUE for each manifest (as docker buildx --annotation), over the ones the build writes. Repeatable.", valueName: "annotation"))
        var annotation: [String] = []

        @Flag(name: .short, help: "Ignore the layer cache (docker build --no-cache).")
        var n = false

        @Option(name: .long, help: ArgumentHelp("Base image of the JVM image: scratch, oci-layout:DIR[:tag], oci-archive:FILE[:tag], docker-archive:FILE, rootfs:FILE.tar[.gz], or an image in the local store. Default: the Dockerfile's FROM.", valueName: "image"))
        var base: String?

        @Option(name: .long, help: "Manifest media types: oci or docker.")
        var format: ManifestFormat = .oci

        @Option(name: .long, help: "Layer compression: gzip, zstd (application/vnd.oci.image.layer.v1.tar+zstd) or none.")
        var compression: LayerCompression = .gzip

        @Option(name: .long, help: "gzip 1 (fast) to 9 (small), default 6; zstd 1 to 19, default 3.")
        var compressionLevel: Int32?

        @Flag(name: .long, help: "Also compress jars and other archives: about 7% smaller jar layers for many times the CPU (default: stored).")
        var compressArchives = false

        @Flag(inversion: .prefixedNo, help: "Cut large COPYs (the jars) into several layers by file name, so one changed jar changes one small layer.")
        var splitLayers = true

        @Option(name: .long, help: ArgumentHelp("With --split-layers: COPYs of more than this many bytes are cut (suffixes k, m, g).", valueName: "size"))
        var splitLayersOver: String = "64m"

        @Option(name: .long, help: ArgumentHelp("Target platforms, OS/ARCH[,OS/ARCH…]; several build an image index.", valueName: "platforms"))
        var platform: String?

        @Flag(name: .long, help: "Fail the build, leaving it untagged, when an image lacks what Spark needs (java, python3 for spark-py, R for spark-r, tini, ps, a passwd entry for its user) instead of warning.")
        var strict = false

        @Flag(name: .long, help: "Push the images after building them.")
        var push = false

        @Flag(name: .long, help: "With --push: push each manifest by digest only, under no tag (merge them later with `index create`).")
        var pushByDigest = false

        @OptionGroup var output: JSONOutputOptions
        @OptionGroup var resultFiles: ResultFileOptions

        @Flag(name: .long, help: "With --push: attach an SPDX 2.3 SBOM (jars, Python and Debian packages) to each pushed image as an OCI referrer.")
        var sbom = false

        @Option(name: .long, help: "Fetch base images named by reference: always, missing or never.")
        var pull: PullPolicy = .missing

        @Flag(name: .short, help: "Load the images into minikube's Docker daemon after building (docker-image-tool.sh's -m).")
        var m = false

        @OptionGroup var daemon: DaemonOptions

        @Flag(name: .customShort("X"), help: "Build for linux/amd64 and linux/arm64 as one image index, and push it (docker-image-tool.sh's -X).")
        var x = false

        func validate() throws {
            if sbom, !push, !x { throw ValidationError("--sbom attaches the SBOM to the pushed image: add --push (or print one with `sbom IMAGE`)") }
            if x, platform != nil { throw ValidationError("-X builds linux/amd64 and linux/arm64; use --platform for other sets") }
            if pushByDigest, !push { throw ValidationError("--push-by-digest needs --push") }
            if let level = compressionLevel {
                let range: ClosedRange<Int32> = compression == .zstd ? 1...19 : 1...9
                guard range.contains(level) else { throw ValidationError("--compression-level for \(compression.rawValue) must be \(range.lowerBound) to \(range.upperBound)") }
            }
            guard RegistryOptionGroup.bytes(splitLayersOver) != nil else { throw ValidationError("--split-layers-over '\(splitLayersOver)' is not a size such as 64m") }
            for (flag, args) in [("-b", b), ("--label", label), ("--annotation", annotation)] {
                for arg in args where !arg.contains("=") || arg.hasPrefix("=") {
                    throw ValidationError("\(flag) '\(arg)' must be KEY=VALUE")
                }
            }
        }

        /// Hands each layer to the uploads that run while the build goes on.
        private static func relay(_ event: BuildEvent, to ahead: PushAhead) {
            switch event {
            case .imageStarted(let reference, _):
                if let reference = try? ImageReference(parsing: reference) { ahead.imageStarted(reference) }
            case .layerFinished(_, let digest, let size, _):
                ahead.layerFinished(digest: digest, size: size)
            default:
                break
            }
        }

        func run() throws {
            let document = output.begin()
            let store = try storeOptions.open()
            let renderer = ProgressRenderer.forStandardOutput()
            let settings = LayerSettings(compression: compression, level: compressionLevel, compressArchives: compressArchives,
                                         epoch: try sourceDateEpoch(), useCache: !n,
                                         splitThreshold: splitLayers ? RegistryOptionGroup.bytes(splitLayersOver).map(Int64.init) : nil)
            let session = registry.session(store: store, renderer: renderer)
            // With --push, layers are uploaded while the build goes on.
            let ahead = push || x ? PushAhead(pusher: Pusher(session: session)) : nil
            let builder = ImageBuilder(store: store, settings: settings, events: { event in
                renderer.handle(event)
                if let ahead { Self.relay(event, to: ahead) }
            }, puller: Puller(session: session), pullPolicy: pull)
            let results: [BuiltImage]
            do { results = try SparkImageBuild(builder: builder).run(try options()) } catch {
                ahead?.cancel()
                throw error
            }
            for image in results {
                for reference in image.references {
                    print("\(reference.familiarDescription)  \(image.manifest.digest)  \(image.layers.count) layers (\(image.newLayers) built, \(image.cachedLayers) cached)")
                }
            }
            var report = BuildReport(images: try results.flatMap { image in
                try image.references.map { reference in
                    var entry = try ImageReport(reference: reference, descriptor: image.manifest, store: store)
                    entry.layersBuilt = image.newLayers
                    entry.layersCached = image.cachedLayers
                    return entry
                }
            })
            if m || daemon.minikube || daemon.dockerDesktop || daemon.host != nil || daemon.context != nil {
                var target = daemon
                target.minikube = target.minikube || m
                let preloaded = try Preload.preload(results.flatMap(\.references), store: store, daemon: target, registry: registry,
                                                    renderer: renderer, platform: nil)
                Preload.report(preloaded.summary)
                report.preload = PreloadReport(preloaded.summary, daemon: preloaded.daemon)
            }
            var written = results.flatMap { image in image.references.map { (reference: $0, descriptor: image.manifest) } }
            if push || x {
                let pusher = Pusher(session: session, ahead: ahead)
                written = try written.map { image in
                    let targets = try Push.targets(for: image.reference, digest: image.descriptor.digest, byDigest: pushByDigest)
                    for result in try pusher.push(image.reference, to: targets) {
                        Push.report(result)
                        report.pushes = (report.pushes ?? []) + [PushReport(result)]
                    }
                    if sbom { try Self.attachSBOM(image.descriptor, to: targets[0], store: store, session: session) }
                    return (reference: targets[0], descriptor: image.descriptor)
                }
            }
            try resultFiles.write(written)
            try document?.write(report)
        }

        /// The SBOM of each platform's image, pushed as a referrer of its manifest in the repository it was pushed to.
        private static func attachSBOM(_ image: Descriptor, to reference: ImageReference, store: Store, session: RegistrySession) throws {
            for (subject, document) in try ImageInventory(store: store).documents(image, name: reference.name, tag: reference.tag) {
                let digest = try Referrers(session: session).attach(document, artifactType: MediaType.spdxJSON, to: subject, in: reference)
                print("attached SBOM \(digest) to \(reference.familiarDescription)@\(subject.digest)")
            }
        }

        private func options() throws -> SparkBuildOptions {
            var variants: [ImageVariant] = [.spark]
            if p != nil || python { variants.append(.sparkPy) }
            if rDockerfile != nil || sparkR { variants.append(.sparkR) }
            var dockerfiles: [ImageVariant: String] = [:]
            dockerfiles[.spark] = f
            dockerfiles[.sparkPy] = p
            dockerfiles[.sparkR] = rDockerfile
            let home = sparkHome ?? ProcessInfo.processInfo.environment["SPARK_HOME"] ?? FileManager.default.currentDirectoryPath
            var options = SparkBuildOptions(
                sparkHome: home, repository: r, tag: t, variants: variants, dockerfiles: dockerfiles, base: base,
                buildArgs: Self.keyValues(b),
                sparkUID: u, format: format, platforms: try platforms())
            options.strict = strict
            options.secrets = try Dictionary(secret.map(Self.parseSecret), uniquingKeysWith: { _, last in last })
            options.labels = Self.keyValues(label)
            options.annotations = Self.keyValues(annotation)
            return options
        }

        /// `KEY=VALUE` arguments (checked by validate()); the last of a key wins.
        static func keyValues(_ args: [String]) -> [String: String] {
            Dictionary(args.map { arg in
                let parts = arg.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), String(parts[1]))
            }, uniquingKeysWith: { _, last in last })
        }

        /// `id=ID,src=FILE` (also `source=`), as docker build takes it.
        static func parseSecret(_ text: String) throws -> (String, String) {
            var fields: [String: String] = [:]
            for field in text.split(separator: ",") {
                let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { fields[pair[0]] = pair[1] }
            }
            guard let id = fields["id"], let source = fields["src"] ?? fields["source"] else {
                throw ValidationError("--secret \(text): expected id=ID,src=FILE")
            }
            return (id, source)
        }

        private func platforms() throws -> [Platform] {
            if x { return [Platform(os: "linux", architecture: "amd64"), Platform(os: "linux", architecture: "arm64")] }
            guard let platform else { return [.host] }
            return try platform.split(separator: ",").map { try Platform(parsing: String($0)) }
        }
    }
}
