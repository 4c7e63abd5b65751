import DockerEngine
import Foundation
import OCI

/// The `ctr` commands a preload runs on one node, in one namespace, each failure naming the node
/// and carrying containerd's own message.
struct NodeSession: Sendable {
    let node: any ContainerdTransport
    let namespace: String
    let snapshotter: String

    /// The node's platform; refuses a missing snapshotter, a platform other than the one asked
    /// for, and a namespace Kubernetes would not see that the node does not even have.
    func platform(requested: Platform?) throws -> Platform {
        let plugins = try run(["plugins", "ls"], doing: "list containerd's plugins")
        guard let platform = CtrOutput.snapshotterPlatform(plugins, snapshotter: snapshotter) else {
            throw PreloadError("node \(node.node): containerd has no working \(snapshotter) snapshotter",
                               hint: "name the node's snapshotter with --snapshotter (`ctr plugins ls` lists them)")
        }
        if let requested, !requested.matches(platform) {
            throw PreloadError("node \(node.node) runs \(platform), not the requested \(requested)",
                               hint: "leave out --platform: each node gets its own platform's image")
        }
        if namespace != ContainerdPreloader.kubernetesNamespace {
            let namespaces = CtrOutput.namespaces(try run(["namespaces", "ls", "-q"], doing: "list containerd's namespaces"))
            guard namespaces.contains(namespace) else {
                throw PreloadError("node \(node.node): containerd has no namespace '\(namespace)' (it has: \(namespaces.sorted().joined(separator: ", ")))",
                                   hint: "Kubernetes sees only the k8s.io namespace: leave out --namespace")
            }
        }
        return platform
    }

    /// Which containerd this is (its UUID), whatever reaches it: the key of what we remember.
    func identity() throws -> String {
        CtrOutput.serverUUID(try run(["version"], doing: "read containerd's version")) ?? node.node
    }

    /// Each image with its manifest digest, whether all its content is there and whether it is
    /// unpacked for the snapshotter: one call reads what both the skip and the check need.
    func images() throws -> [CtrOutput.CheckRow] {
        CtrOutput.check(try run(["images", "check", "--snapshotter", snapshotter], doing: "check its images"))
    }

    func contentDigests() throws -> Set<Digest> {
        CtrOutput.contentDigests(try run(["content", "ls", "-q"], doing: "list its content store"))
    }

    func tag(_ source: String, as target: String) throws {
        _ = try run(["images", "tag", "--force", source, target], doing: "tag \(source) as \(target)")
    }

    /// Streams the archive into `ctr images import`; the bytes sent. Unpacks for `snapshotter`
    /// unless `unpack` is false. Each image is named by its digest too, as `kind load` does, unless
    /// this is a staging import, whose names are removed afterwards.
    func importArchive(_ archive: @escaping EngineClient.InputProducer, platform: Platform,
                       unpack: Bool = true, staging: Bool = false) throws -> Int64 {
        let result = try node.ctr(namespaced(["images", "import", "--platform", platform.description]
                                             + (unpack ? ["--snapshotter=\(snapshotter)"] : ["--no-unpack"])
                                             + (staging ? [] : ["--digests"]) + ["-"]), stdin: archive)
        guard result.exitCode == 0 else {
            throw ImportFailure(exitCode: result.exitCode, stderr: result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return result.bytesSent
    }

    /// A failed import leaves the name on an incomplete image: remove those, so the node lists
    /// nothing that a pod would try to start from.
    func removeIncomplete(_ names: [String]) throws {
        let broken = try images().filter { names.contains($0.name) && !$0.isReady }.map(\.name)
        if !broken.isEmpty { try remove(broken) }
    }

    func remove(_ names: [String]) throws {
        _ = try run(["images", "rm"] + names, doing: "remove \(names.joined(separator: ", "))")
    }

    /// Every name resolves to its manifest, with all content present and unpacked.
    func verify(_ expected: [(name: String, manifest: Digest)]) throws {
        let rows = try images()
        for (name, manifest) in expected {
            guard let row = rows.first(where: { $0.name == name }) else {
                throw PreloadError("node \(node.node): after the import, containerd does not list \(name)",
                                   hint: "preload again with --verbose; `ctr -n \(namespace) images ls` on the node shows what it has")
            }
            guard row.digest == manifest, row.isReady else {
                throw PreloadError("node \(node.node): containerd lists \(name) as \(row.digest), \(row.status), unpacked: \(row.unpacked); expected \(manifest), complete and unpacked",
                                   hint: "remove it on the node (`ctr -n \(namespace) images rm \(name)`) and preload again")
            }
        }
    }

    private func namespaced(_ arguments: [String]) -> [String] { ["--namespace", namespace] + arguments }

    /// Runs a `ctr` command that must succeed; its stdout.
    private func run(_ arguments: [String], doing what: String) throws -> String {
        let result: CtrResult
        do { result = try node.ctr(namespaced(arguments), stdin: nil) } catch {
            throw PreloadError("node \(node.node): cannot \(what): \(error)", kind: .unreachable)
        }
        guard result.exitCode == 0 else {
            throw PreloadError("node \(node.node): cannot \(what): ctr \(arguments.joined(separator: " ")) exited \(result.exitCode): \(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))",
                               hint: "is the node's containerd running? (`ctr version` in the node)", kind: .unreachable)
        }
        return result.stdout
    }
}
