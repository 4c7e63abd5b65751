import Dockerfile
import Foundation
import OCI
import Runtime
import Spark
import Store
import Support

/// The runtime a build's RUNs use: root runs it directly, anyone else in a user namespace.
struct RunEnvironment: Sendable {
    let runtime: OCIRuntime
    let rootless: RootlessIDs?

    var snapshotMode: SnapshotMode { rootless == nil ? .root : .rootless }

    static func current() throws -> RunEnvironment {
        RunEnvironment(runtime: try OCIRuntime.locate(), rootless: geteuid() == 0 ? nil : RootlessIDs.currentUser())
    }
}

extension StageRun {
    /// One RUN: its layer from the cache, or from running it over the parent's snapshots.
    /// `onMiss` runs when the RUN is not in the cache, once its snapshots are unpacked, before its runtime starts.
    mutating func buildRun(_ step: RunStep, line: Int, createdBy: String, image: inout ImageAssembler, built: [ImageAssembler],
                           onMiss: () -> Void = {}) throws {
        do {
            let environment = try RunEnvironment.current()
            let runner = RunLayerBuilder(
                store: builder.store, settings: builder.settings, events: builder.events, runtime: environment.runtime,
                rootless: environment.rootless, secrets: request.secrets)
            let (layers, diffIDs) = (image.layers, image.config.rootfs.diffIDs)
            layerCount += 1
            let result = try runner.build(step, parentDiffIDs: diffIDs, line: line, description: createdBy, id: layerCount) {
                let inputs = try runInputs(step, layers: layers, diffIDs: diffIDs, environment: environment, built: built)
                onMiss()
                return inputs
            }
            image.addLayer(result.layer, createdBy: createdBy, mediaType: request.format.layerMediaType(for: builder.settings.compression))
            if result.cached { cachedLayers += 1 } else { newLayers += 1 }
        } catch let error as BuildError {
            throw error.at(request.dockerfileName, line: line)
        } catch let error as any HintedError {
            throw BuildError(error.message, hint: error.hint).at(request.dockerfileName, line: line)
        }
    }

    private func runInputs(_ step: RunStep, layers: [Descriptor], diffIDs: [Digest], environment: RunEnvironment, built: [ImageAssembler]) throws -> RunInputs {
        guard !layers.isEmpty, layers.count == diffIDs.count else {
            throw BuildError("RUN needs a base image with files (a shell at least); this stage has none", hint: "start the stage FROM an image, not scratch")
        }
        let owners = SubordinateOwners(environment.rootless)
        var lowerDirs: [String] = []
        for (layer, diffID) in zip(layers, diffIDs) {
            let snapshot = try reportedSnapshot(of: layer, diffID: diffID, mode: environment.snapshotMode)
            try owners?.own(snapshot: snapshot, of: layer, store: builder.store)
            lowerDirs.insert(snapshot, at: 0)
        }
        var inputs = RunInputs(lowerDirs: lowerDirs, users: UserDatabase.of(snapshots: lowerDirs))
        for case .bind(let bind) in step.mounts {
            let (tree, source) = try bindSource(bind, built: built)
            if let tree { inputs.trees.append(tree) }
            inputs.bindSources[bind.target] = source
        }
        return inputs
    }

    /// The layer's snapshot; unpacking one is a task the CLI shows with its duration.
    private func reportedSnapshot(of layer: Descriptor, diffID: Digest, mode: SnapshotMode) throws -> String {
        let store = builder.store
        if FileManager.default.fileExists(atPath: store.snapshotPath(diffID)) { return store.snapshotPath(diffID) }
        let name = "layer \(layer.digest.encoded.prefix(12))"
        let events = builder.events
        // The bar counts files' bytes unpacked, which the compressed size does not bound.
        return try BuildEvent.task("snapshot", "unpacking \(name)", events: events) {
            try store.snapshot(of: layer, diffID: diffID, mode: mode) { events(.taskProgress(task: "snapshot", bytes: $0)) }
        } finished: { _ in ("unpacked \(name)", layer.size) }
    }

    /// `--mount=type=bind,source=…[,from=STAGE|IMAGE]`: the context's file or directory (no
    /// symlink leaving it), or that part of the stage or image, unpacked; there the source is
    /// reached only through directories of the image, never a symlink.
    private func bindSource(_ bind: BindMount, built: [ImageAssembler]) throws -> (ExtractedTree?, String) {
        let layers: [Descriptor]
        switch bind.from {
        case .context: return (nil, try contextBindSource(bind))
        case .stage(let index): layers = built[index].layers
        case .image(let name): layers = try importer.importBase(try BaseSource(parsing: name)).layers
        }
        let relative = ImagePath.relative(bind.source)
        let tree = try ExtractedTree.unpack(layers, from: builder.store, sources: [relative])
        let components = relative.split(separator: "/").map(String.init)
        for end in components.indices {
            let path = components[...end].joined(separator: "/")
            let kind = tree.metadata[path]?.kind
            let isLast = end == components.count - 1
            guard kind == .directory || (isLast && { if case .file = kind { true } else { false } }()) else {
                throw BuildError("RUN --mount=type=bind,source=\(bind.source): /\(path) is not a directory or file of the image",
                                 hint: "name a path that exists in the stage or image, without symlinks on the way")
            }
        }
        return (tree, relative.isEmpty ? tree.directory : "\(tree.directory)/\(relative)")
    }

    private func contextBindSource(_ bind: BindMount) throws -> String {
        let physical = try context.physicalPath(ImagePath.relative(bind.source), includingLast: true)
        guard let disk = ContextMount.resolve(physical, in: context.mounts)?.diskPath, FileManager.default.fileExists(atPath: disk) else {
            throw BuildError("RUN --mount=type=bind,source=\(bind.source): no such file or directory in the build context \(context.rootDescription)",
                             hint: "name a path of the build context (the Spark distribution)")
        }
        return disk
    }

    /// `COPY --chown` (and WORKDIR's owner): numbers as they are; names through the image's
    /// /etc/passwd and /etc/group.
    func copyOwner(_ chown: String?, layers: [Descriptor], what: String? = nil) throws -> (uid: Int, gid: Int)? {
        guard let chown, !UserDatabase.isNumeric(chown) else { return try CopyPlanner.owner(chown) }
        return try UserDatabase.of(layers, store: builder.store).resolve(chown, what: what ?? "COPY --chown=\(chown)")
    }
}

/// RUN for another architecture runs through QEMU registered with binfmt_misc, or not at all.
enum Emulation {
    /// binfmt_misc's name for each architecture's QEMU handler.
    static let handlers = [
        "amd64": "qemu-x86_64", "arm64": "qemu-aarch64", "arm": "qemu-arm", "ppc64le": "qemu-ppc64le",
        "s390x": "qemu-s390x", "riscv64": "qemu-riscv64", "386": "qemu-i386",
    ]

    /// Throws, naming the RUN and the platform, when `platform` is foreign and nothing emulates it.
    static func check(_ platform: Platform, runLine: Int, file: String,
                      registered: (String) -> Bool = { FileManager.default.fileExists(atPath: "/proc/sys/fs/binfmt_misc/\($0)") }) throws {
        guard platform.architecture != Platform.host.architecture else { return }
        if let handler = handlers[platform.architecture], registered(handler) { return }
        throw BuildError("RUN for \(platform.os)/\(platform.architecture) cannot run on this \(Platform.host.architecture) machine: no QEMU is registered with binfmt_misc for it",
                         hint: "apt-get install qemu-user-static binfmt-support (which registers it), or build only --platform \(Platform.host.os)/\(Platform.host.architecture)")
            .at(file, line: runLine)
    }
}
