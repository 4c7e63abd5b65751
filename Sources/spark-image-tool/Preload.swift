import ArgumentParser
import Distribution
import Preload
import DockerEngine
import Foundation
import OCI
import Store

struct DaemonOptions: ParsableArguments {
    @Option(name: .customLong("host"), help: ArgumentHelp("The Docker daemon: unix:///path or tcp://host:port (DOCKER_TLS_VERIFY and DOCKER_CERT_PATH apply).", valueName: "host"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("A docker context by name.", valueName: "name"))
    var context: String?

    @Flag(name: .long, help: "Use minikube's Docker daemon (`minikube docker-env`).")
    var minikube = false

    @Option(name: .long, help: ArgumentHelp("The minikube profile.", valueName: "profile"))
    var profile: String = "minikube"

    @Flag(name: .long, help: "Use Docker Desktop's daemon.")
    var dockerDesktop = false

    func validate() throws {
        if minikube && dockerDesktop { throw ValidationError("--minikube and --docker-desktop name different daemons; pick one") }
    }

    var request: EndpointDiscovery.Request {
        if minikube { return .minikube(profile: profile) }
        if dockerDesktop { return .dockerDesktop }
        return .automatic(host: host, context: context)
    }
}

extension Root {
    struct Preload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load images into a Docker daemon (minikube, Docker Desktop, DOCKER_HOST) or a cluster's nodes (kind, k3d, minikube's containerd or cri-o runtime, on any driver), sending only what each lacks.",
            discussion: """
                Images missing from the local store are pulled into it first (and stay there for the next cluster).
                Examples:
                  spark-image-tool preload registry.example.com/spark/spark:4.0.1
                  spark-image-tool preload --minikube --profile p spark:4.0.1 spark-py:4.0.1
                  spark-image-tool preload --docker-desktop apache/spark:4.0.1
                  spark-image-tool preload --kind --cluster dev spark:4.0.1
                  spark-image-tool preload --containerd /run/k3s/containerd/containerd.sock spark:4.0.1
                --jobs also bounds the nodes loaded at once.
                """)

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var registry: RegistryOptionGroup
        @OptionGroup var daemon: DaemonOptions
        @OptionGroup var containerd: ContainerdOptions
        @OptionGroup var output: JSONOutputOptions

        @Argument(help: "Images to load.")
        var images: [String]

        @Option(name: .long, help: ArgumentHelp("Platform OS/ARCH (default: the daemon's).", valueName: "platform"))
        var platform: String?

        func run() throws {
            let document = output.begin()
            let store = try storeOptions.open()
            let references = try images.map { try ImageReference(parsing: $0) }
            let renderer = ProgressRenderer.forStandardOutput()
            let requested = try platform.map { try Platform(parsing: $0) }
            let log: (@Sendable (String) -> Void)? = registry.verbose ? RegistryOptionGroup.printToStandardError : nil
            if let found = try Self.containerdNodes(containerd, daemon: daemon, log: log) {
                let report = try Self.preloadContainerd(references, cluster: found.cluster, nodes: found.nodes, options: containerd, store: store,
                                                        registry: registry, renderer: renderer, platform: requested)
                Self.report(report)
                if let failure = report.failure { throw failure }
                try document?.write(report)
                return
            }
            let preloaded = try Self.preload(references, store: store, daemon: daemon, registry: registry, renderer: renderer,
                                             platform: requested)
            Self.report(preloaded.summary)
            try document?.write(PreloadReport(preloaded.summary, daemon: preloaded.daemon))
        }

        /// The summary, and the daemon it went to.
        static func preload(_ references: [ImageReference], store: Store, daemon: DaemonOptions, registry: RegistryOptionGroup,
                            renderer: ProgressRenderer, platform: Platform?) throws -> (summary: PreloadSummary, daemon: String) {
            let endpoint = try EndpointDiscovery().endpoint(for: daemon.request)
            let log: (@Sendable (String) -> Void)? = registry.verbose ? RegistryOptionGroup.printToStandardError : nil
            log?("Docker daemon: \(endpoint.description)")
            let preloader = Preloader(store: store, engine: try EngineClient(connectingTo: endpoint, log: log),
                                      puller: Puller(session: registry.session(store: store, renderer: renderer)), log: log)
            return (try preloader.preload(references, platform: platform), endpoint.description)
        }

        static func report(_ summary: PreloadSummary) {
            for result in summary.results {
                let how = switch result.outcome {
                case .skipped: "already loaded"
                case .tagged: "tagged (the daemon had the image)"
                case .delta(let sent, let total): "loaded: \(sent) of \(total) layers sent"
                case .patched: "loaded: one patch layer on an earlier build in the daemon"
                case .full: "loaded: full archive"
                }
                print("\(result.reference.familiarDescription) \(result.imageID.encoded.prefix(12)): \(how)")
            }
            print("sent \(formatBytes(summary.bytesSent)) (\(summary.bytesSent) bytes) to the daemon")
        }
    }
}
