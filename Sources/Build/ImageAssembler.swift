import Dockerfile
import Foundation
import OCI
import Store

/// The image of one stage as it is being built: the config with Dockerfile instructions applied
/// the way Docker applies them, the layer list, and the history.
struct ImageAssembler: Sendable {
    private(set) var config: ImageConfig
    private(set) var layers: [Descriptor]
    let created: String
    let format: ManifestFormat
    /// The manifest's annotations that name the base (so the image can be rebased later).
    let baseAnnotations: [String: String]

    init(base: BaseImage, epoch: Int64, format: ManifestFormat) {
        config = base.config
        baseAnnotations = base.origin.map { [Annotation.baseName: $0.reference.description, Annotation.baseDigest: $0.digest.description] } ?? [:]
        created = Self.timestamp(epoch)
        config.created = created
        // The base's layers keep their bytes; only the media type family follows the manifest.
        layers = base.layers.map { layer in
            var layer = layer
            layer.mediaType = format.layerMediaType(equivalentTo: layer.mediaType)
            layer.annotations = nil
            return layer
        }
        self.format = format
        if config.history == nil { config.history = [] }
    }

    var baseState: BaseState {
        BaseState(env: config.config?.env ?? [], workingDir: config.config?.workingDir, shell: config.config?.shell,
                  user: config.config?.user)
    }

    mutating func apply(_ action: Action, createdBy: String) {
        configure(action)
        addEmptyLayer(createdBy: createdBy)
    }

    /// An instruction that also wrote a layer (WORKDIR making its directory): one history entry.
    mutating func apply(_ action: Action, createdBy: String, layer: CachedLayer, mediaType: String) {
        configure(action)
        addLayer(layer, createdBy: createdBy, mediaType: mediaType)
    }

    private mutating func configure(_ action: Action) {
        var container = config.config ?? ContainerConfig()
        switch action {
        case .env(let pairs):
            var env = container.env ?? []
            for pair in pairs {
                let entry = "\(pair.key)=\(pair.value)"
                if let index = env.firstIndex(where: { $0.hasPrefix(pair.key + "=") }) { env[index] = entry } else { env.append(entry) }
            }
            container.env = env
        case .label(let pairs):
            var labels = container.labels ?? [:]
            for pair in pairs { labels[pair.key] = pair.value }
            container.labels = labels
        case .workdir(let path): container.workingDir = path
        case .user(let user): container.user = user
        case .entrypoint(let command, let resetsCmd):
            container.entrypoint = command
            // Docker drops an inherited CMD when a stage sets ENTRYPOINT before its own CMD.
            if resetsCmd { container.cmd = nil }
        case .cmd(let command):
            container.cmd = command
        case .expose(let ports):
            var exposed = container.exposedPorts ?? [:]
            for port in ports { exposed[port] = EmptyObject() }
            container.exposedPorts = exposed
        case .volume(let paths):
            var volumes = container.volumes ?? [:]
            for path in paths { volumes[path] = EmptyObject() }
            container.volumes = volumes
        case .stopSignal(let signal): container.stopSignal = signal
        case .shell(let shell): container.shell = shell
        case .healthcheck(let check):
            var health = HealthConfig(test: check.test)
            health.interval = check.interval
            health.timeout = check.timeout
            health.startPeriod = check.startPeriod
            health.startInterval = check.startInterval
            health.retries = check.retries
            container.healthcheck = health
        case .maintainer(let author): config.author = author
        case .copy, .run: break
        }
        config.config = container
    }

    mutating func addLayer(_ layer: CachedLayer, createdBy: String, mediaType: String) {
        layers.append(Descriptor(mediaType: mediaType, digest: layer.digest, size: layer.size))
        config.rootfs.diffIDs.append(layer.diffID)
        config.history!.append(History(created: created, createdBy: createdBy))
    }

    /// Labels given on the command line: in the config, with no history entry.
    mutating func addLabels(_ labels: [String: String]) {
        guard !labels.isEmpty else { return }
        var container = config.config ?? ContainerConfig()
        container.labels = (container.labels ?? [:]).merging(labels) { _, given in given }
        config.config = container
    }

    mutating func addEmptyLayer(createdBy: String) {
        config.history!.append(History(created: created, createdBy: createdBy, emptyLayer: true))
    }

    var asBase: BaseImage { BaseImage(config: config, layers: layers, description: "previous stage") }

    /// Writes config and manifest into the store; returns the manifest's descriptor.
    func write(to store: Store, annotations: [String: String]) throws -> Descriptor {
        let annotations = baseAnnotations.merging(annotations) { _, given in given }
        let configBytes = try CanonicalJSON.encode(config)
        let configDigest = try store.putBlob(configBytes)
        let manifest = ImageManifest(
            mediaType: format.manifestMediaType,
            config: Descriptor(mediaType: format.configMediaType, digest: configDigest, size: Int64(configBytes.count)),
            layers: layers, annotations: annotations.isEmpty ? nil : annotations)
        let manifestBytes = try CanonicalJSON.encode(manifest)
        return Descriptor(mediaType: format.manifestMediaType, digest: try store.putBlob(manifestBytes), size: Int64(manifestBytes.count))
    }

    /// RFC 3339 in UTC, as image configs carry it.
    static func timestamp(_ epoch: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(epoch)))
    }
}
