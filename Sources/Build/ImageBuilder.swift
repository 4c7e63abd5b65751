import Archive
import Dockerfile
import Foundation
import ImageFormats
import OCI
import Spark
import Store
import Support

/// One Dockerfile build: what to build from, and under which names to tag the result.
public struct ImageBuildRequest: Sendable {
    public var dockerfile: String
    /// Where the Dockerfile came from, for error messages.
    public var dockerfileName: String
    public var buildArgs: [String: String]
    public var mounts: [ContextMount]
    /// Replaces the base image of the final stage (--base).
    public var baseOverride: String?
    public var references: [ImageReference]
    public var format: ManifestFormat
    public var platform: Platform
    /// Put on the manifest (the base's name and digest are added when known).
    public var annotations: [String: String]
    /// `--secret id=…,src=…`: files RUN --mount=type=secret reads; never in a layer or cache key.
    public var secrets: [String: String]
    /// `--label`: added to the final stage's config labels (no history entry, as buildx does).
    public var labels: [String: String]

    public init(dockerfile: String, dockerfileName: String, buildArgs: [String: String], mounts: [ContextMount],
                baseOverride: String? = nil, references: [ImageReference], format: ManifestFormat = .oci, platform: Platform = .host,
                annotations: [String: String] = [:], secrets: [String: String] = [:], labels: [String: String] = [:]) {
        self.annotations = annotations
        self.secrets = secrets
        self.labels = labels
        self.dockerfile = dockerfile
        self.dockerfileName = dockerfileName
        self.buildArgs = buildArgs
        self.mounts = mounts
        self.baseOverride = baseOverride
        self.references = references
        self.format = format
        self.platform = platform
    }
}

public struct BuiltImage: Sendable {
    public var references: [ImageReference]
    public var manifest: Descriptor
    public var layers: [Descriptor]
    public var newLayers: Int
    public var cachedLayers: Int
}

/// Builds one Dockerfile into the store: stages in order, one layer per COPY/ADD.
public struct ImageBuilder: Sendable {
    public let store: Store
    public let settings: LayerSettings
    public let events: BuildEventHandler
    /// Fetches base images named by reference; nil keeps builds offline.
    public let puller: (any ImageFetching)?
    public let pullPolicy: PullPolicy

    public init(store: Store, settings: LayerSettings, events: @escaping BuildEventHandler,
                puller: (any ImageFetching)? = nil, pullPolicy: PullPolicy = .missing) {
        self.store = store
        self.settings = settings
        self.events = events
        self.puller = puller
        self.pullPolicy = pullPolicy
    }

    public func build(_ request: ImageBuildRequest) throws -> BuiltImage {
        do { return try buildOnce(request) } catch is DirectoryIndex.ScanOrderMiss {
            // The base's listings are complete and cached now: the second build reads them.
            events(.warning("a base layer does not list its files in walk order; building again with its complete listing"))
            return try buildOnce(request)
        }
    }

    private func buildOnce(_ request: ImageBuildRequest) throws -> BuiltImage {
        let dockerfile = try Dockerfile.parse(request.dockerfile, file: request.dockerfileName)
        let platform = request.platform
        let planner = BuildPlanner(dockerfile: dockerfile, buildArgs: request.buildArgs,
                                   platform: TargetPlatform(os: platform.os, architecture: platform.architecture, variant: platform.variant))
        let stages = try planner.stages()
        let context = try BuildContext.readingIgnoreFile(mounts: request.mounts)
        var run = StageRun(builder: self, request: request, context: context)
        var built: [ImageAssembler] = []
        for stage in stages {
            let isFinal = stage.index == stages.count - 1
            let base = try run.base(of: stage, override: isFinal ? request.baseOverride : nil, built: built)
            built.append(try run.build(stage, on: base, planner: planner, built: built))
        }
        for name in planner.unusedBuildArgs {
            events(.warning("build arg \(name) was not consumed by \(request.dockerfileName)"))
        }
        var final = built[built.count - 1]
        final.addLabels(request.labels)
        let manifest = try final.write(to: store, annotations: request.annotations)
        for reference in request.references {
            try store.tag(manifest, as: reference)
            events(.imageTagged(reference: reference.familiarDescription, digest: manifest.digest,
                                size: final.layers.totalSize))
        }
        return BuiltImage(references: request.references, manifest: manifest, layers: final.layers,
                          newLayers: run.newLayers, cachedLayers: run.cachedLayers)
    }
}

/// The mutable part of one build: layer numbering and counts.
struct StageRun {
    let builder: ImageBuilder
    let request: ImageBuildRequest
    let context: BuildContext
    var layerCount = 0
    var newLayers = 0
    var cachedLayers = 0
    /// Layers this build made, the COPYs prebuilt while a RUN ran among them (ImageBuilder+Prebuild).
    var prebuilt = PrebuiltLayers()
    /// Set on a prebuild's copy: true once its RUN is over.
    var isCancelled: @Sendable () -> Bool = { false }

    init(builder: ImageBuilder, request: ImageBuildRequest, context: BuildContext) {
        self.builder = builder
        self.request = request
        self.context = context
    }

    var importer: BaseImporter {
        BaseImporter(store: builder.store, settings: builder.settings, platform: request.platform,
                     puller: builder.puller, pullPolicy: builder.pullPolicy, events: builder.events)
    }

    /// Why a base could not be used, with the hint of whoever failed; only a file that is not
    /// a readable image gets the advice about archives (not a registry's 404 or a network error).
    private static func baseFailure(_ error: any Error, name: String) -> BuildError {
        switch error {
        case let error as BuildError:
            return error
        case let error as ImageFormatError:
            return BuildError(error.message, hint: error.hint ?? "check that the file is a complete, uncorrupted image archive")
        case let error as ArchiveError:
            return BuildError("cannot use base image \(name): \(error)",
                              hint: "check that the file is a complete, uncorrupted image archive or root file system tarball")
        default:
            let hinted = error as? any HintedError
            return BuildError("cannot use base image \(name): \(error)", hint: hinted?.hint, kind: hinted?.failureKind ?? .userError)
        }
    }

    func base(of stage: StageHeader, override: String?, built: [ImageAssembler]) throws -> BaseImage {
        let base: BaseImage
        switch stage.base {
        case .scratch where override == nil:
            base = try importer.importBase(.scratch)
        case .stage(let index) where override == nil:
            base = built[index].asBase
        default:
            let name: String = override ?? { if case .image(let name) = stage.base { return name } else { return "scratch" } }()
            do { base = try importer.importBase(try BaseSource(parsing: name)) } catch {
                throw Self.baseFailure(error, name: name).at(request.dockerfileName, line: stage.line)
            }
        }
        builder.events(.baseResolved(description: base.description, layers: base.layers.count))
        return base
    }

    mutating func build(_ stage: StageHeader, on base: BaseImage, planner: BuildPlanner, built: [ImageAssembler]) throws -> ImageAssembler {
        var image = ImageAssembler(base: base, epoch: builder.settings.epoch, format: request.format)
        let plan = try planner.evaluate(stage, base: image.baseState)
        // Before any layer of the stage: a RUN the machine cannot run stops the build here.
        if let run = plan.steps.first(where: { if case .run = $0.action { true } else { false } }) {
            try Emulation.check(request.platform, runLine: run.line, file: request.dockerfileName)
        }
        var directories: DirectoryIndex?
        for (index, step) in plan.steps.enumerated() {
            builder.events(.step(line: step.line, text: step.createdBy))
            let started = Date()
            let finished = { [events = builder.events] in
                events(.stepFinished(index: index + 1, count: plan.steps.count, text: step.createdBy, seconds: Date().timeIntervalSince(started)))
            }
            if case .run(let runStep) = step.action {
                try directories?.confirm(store: builder.store)
                directories = nil
                try buildRunPrebuilding(runStep, line: step.line, createdBy: step.createdBy, image: &image, built: built,
                                        following: plan.steps[(index + 1)...])
                finished()
                continue
            }
            if case .workdir(let path) = step.action {
                if directories == nil { directories = DirectoryIndex(layers: image.layers, store: builder.store) }
                do { try buildWorkdir(path, createdBy: step.createdBy, image: &image, directories: &directories!) } catch let error as BuildError {
                    throw error.at(request.dockerfileName, line: step.line)
                }
                continue
            }
            guard case .copy(let copy) = step.action else {
                image.apply(step.action, createdBy: step.createdBy)
                continue
            }
            do {
                if directories == nil { directories = DirectoryIndex(layers: image.layers, store: builder.store) }
                let layers = try buildLayers(copy, description: step.createdBy, built: built, layers: image.layers, directories: &directories!)
                if layers.isEmpty {
                    // A wildcard that matched nothing: history only, as Docker records it.
                    image.addEmptyLayer(createdBy: step.createdBy)
                }
                for (part, layer) in layers.enumerated() {
                    let createdBy = layers.count == 1 ? step.createdBy : "\(step.createdBy) # part \(part + 1) of \(layers.count)"
                    image.addLayer(layer.layer, createdBy: createdBy, mediaType: request.format.layerMediaType(for: builder.settings.compression))
                    if layer.cached { cachedLayers += 1 } else { newLayers += 1 }
                }
            } catch let error as BuildError {
                throw error.at(request.dockerfileName, line: step.line)
            }
            finished()
        }
        try directories?.confirm(store: builder.store)
        return image
    }

    /// The COPY's layers: none when it matched nothing, several when it is split.
    mutating func buildLayers(_ copy: CopyStep, description: String, built: [ImageAssembler], layers imageLayers: [Descriptor],
                                      directories: inout DirectoryIndex) throws -> [BuiltLayer] {
        var unpackedSource: ExtractedTree?
        var sourceContext = context
        switch copy.from {
        case .context:
            break
        case .stage(let index):
            unpackedSource = try ExtractedTree.unpack(built[index].layers, from: builder.store, sources: copy.sources)
        case .image(let name):
            let image = try importer.importBase(try BaseSource(parsing: name))
            unpackedSource = try ExtractedTree.unpack(image.layers, from: builder.store, sources: copy.sources)
        }
        if let unpackedSource { sourceContext = unpackedSource.context }
        let planner = CopyPlanner(context: sourceContext, step: copy, owner: try copyOwner(copy.chown, layers: imageLayers),
                                  scratchDirectory: "\(builder.store.root)/ingest")
        let plan = try planner.plan()
        let groups = builder.settings.splitThreshold.map { LayerSplitter(threshold: $0).split(plan.entries) } ?? [plan.entries]
        let writer = LayerBuilder(store: builder.store, settings: builder.settings, events: builder.events,
                                  prebuilt: prebuilt, isCancelled: isCancelled)
        var layers: [BuiltLayer] = []
        for group in groups where !group.isEmpty {
            let entries = directories.completingParents(of: group)
            layerCount += 1
            let built = try withExtendedLifetime((plan.unpacked, unpackedSource)) {
                try writer.build(entries, description: description, id: layerCount)
            }
            try DirectoryIndex.remember(entries, digest: built.layer.digest, store: builder.store)
            directories.add(entries)
            layers.append(built)
        }
        return layers
    }
}
