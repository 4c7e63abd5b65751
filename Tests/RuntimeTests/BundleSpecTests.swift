import Foundation
import Testing
@testable import Runtime

private func config(_ spec: BundleSpec) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: spec.configJSON()) as? [String: Any])
}

private func mounts(_ spec: BundleSpec) throws -> [String: [String: Any]] {
    let list = try #require(try config(spec)["mounts"] as? [[String: Any]])
    return Dictionary(list.map { ($0["destination"] as! String, $0) }, uniquingKeysWith: { $1 })
}

private let base = BundleSpec(args: ["/bin/sh", "-c", "true"], env: ["PATH=/bin"], rootPath: "/r")
private let noRanges = RootlessIDs(uid: 1000, gid: 1000, userName: "me", subuid: nil, subgid: nil)
private let withRanges = RootlessIDs(uid: 1000, gid: 1000, userName: "me", subuid: "me:100000:65536\n", subgid: "me:100000:65536\n")

@Test func processUserCapabilitiesAndRoot() throws {
    var spec = base
    spec.cwd = "/opt/spark/work-dir"
    spec.user = ProcessUser(uid: 185, gid: 0, additionalGids: [5, 20])
    let json = try config(spec)
    let process = try #require(json["process"] as? [String: Any])
    #expect(process["args"] as? [String] == ["/bin/sh", "-c", "true"])
    #expect(process["env"] as? [String] == ["PATH=/bin"])
    #expect(process["cwd"] as? String == "/opt/spark/work-dir")
    #expect(process["terminal"] as? Bool == false)
    let user = try #require(process["user"] as? [String: Any])
    #expect(user["uid"] as? Int == 185 && user["gid"] as? Int == 0 && user["additionalGids"] as? [Int] == [5, 20])
    let capabilities = try #require(process["capabilities"] as? [String: [String]])
    for set in ["bounding", "effective", "permitted"] {
        #expect(Set(capabilities[set] ?? []) == Set([
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
            "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_MKNOD", "CAP_AUDIT_WRITE",
            "CAP_SETFCAP",
        ]))
    }
    #expect((json["root"] as? [String: Any])?["path"] as? String == "/r")
    let linux = try #require(json["linux"] as? [String: Any])
    #expect((linux["maskedPaths"] as? [String])?.contains("/proc/kcore") == true)
    #expect((linux["readonlyPaths"] as? [String])?.contains("/proc/sys") == true)
    #expect(linux["uidMappings"] == nil)
}

@Test func rootUserHasNoAdditionalGids() throws {
    let user = try #require((try config(base)["process"] as? [String: Any])?["user"] as? [String: Any])
    #expect(user["additionalGids"] == nil)
}

struct NetworkCase: Sendable, CustomTestStringConvertible {
    let name: String
    let network: BundleSpec.Network
    let rootless: RootlessIDs?
    let namespaces: [String]
    let resolvConf: Bool
    let sysType: String
    let devptsGid: Bool
    var testDescription: String { name }
}

let networkCases: [NetworkCase] = [
    NetworkCase(name: "host network as root", network: .host, rootless: nil,
                namespaces: ["pid", "ipc", "uts", "mount"], resolvConf: true, sysType: "sysfs", devptsGid: true),
    NetworkCase(name: "no network as root", network: .none, rootless: nil,
                namespaces: ["pid", "ipc", "uts", "mount", "network"], resolvConf: false, sysType: "sysfs", devptsGid: true),
    NetworkCase(name: "host network rootless: /sys bound, gid 5 unmapped", network: .host, rootless: noRanges,
                namespaces: ["pid", "ipc", "uts", "mount"], resolvConf: true, sysType: "none", devptsGid: false),
    NetworkCase(name: "no network rootless with ranges: sysfs of its own, gid 5 mapped", network: .none, rootless: withRanges,
                namespaces: ["pid", "ipc", "uts", "mount", "network"], resolvConf: false, sysType: "sysfs", devptsGid: true),
]

@Test(arguments: networkCases)
func namespacesAndStandardMounts(_ test: NetworkCase) throws {
    var spec = base
    spec.network = test.network
    spec.rootless = test.rootless
    let linux = try #require(try config(spec)["linux"] as? [String: Any])
    #expect((linux["namespaces"] as? [[String: String]])?.compactMap { $0["type"] } == test.namespaces)
    let byDestination = try mounts(spec)
    #expect(Set(["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"]).isSubset(of: byDestination.keys))
    #expect((byDestination["/etc/resolv.conf"] != nil) == test.resolvConf)
    #expect((byDestination["/etc/hosts"] != nil) == test.resolvConf)
    #expect(byDestination["/etc/resolv.conf"].map { $0["options"] as? [String] }??.contains("ro") ?? true)
    #expect(byDestination["/sys"]?["type"] as? String == test.sysType)
    #expect(((byDestination["/dev/pts"]?["options"] as? [String]) ?? []).contains("gid=5") == test.devptsGid)
}

@Test(arguments: [
    (BundleMount.bind(source: "/store/cache/pip", destination: "/root/.cache/pip", readOnly: false),
     "none", "/store/cache/pip", ["rbind", "rw", "nosuid", "nodev"]),
    (BundleMount.bind(source: "/s/secret", destination: "/run/secrets/aws", readOnly: true),
     "none", "/s/secret", ["rbind", "ro", "nosuid", "nodev"]),
    (BundleMount.tmpfs(destination: "/scratch", sizeBytes: 65536), "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777", "size=65536"]),
    (BundleMount.tmpfs(destination: "/scratch", sizeBytes: nil), "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777"]),
])
func buildMountsComeLast(_ mount: BundleMount, _ type: String, _ source: String, _ options: [String]) throws {
    var spec = base
    spec.mounts = [mount]
    let list = try #require(try config(spec)["mounts"] as? [[String: Any]])
    let last = try #require(list.last)
    #expect(last["type"] as? String == type)
    #expect(last["source"] as? String == source)
    #expect(last["options"] as? [String] == options)
}

@Test func equalSpecsGiveEqualBytes() {
    #expect(base.configJSON() == base.configJSON())
    #expect(!base.configJSON().isEmpty)
}

// MARK: - Rootless ids

@Test(arguments: [
    (nil, [IDMapping(containerID: 0, hostID: 1000, size: 1)]),
    ("me:100000:65536\n", [IDMapping(containerID: 0, hostID: 1000, size: 1), IDMapping(containerID: 1, hostID: 100000, size: 65536)]),
    ("# comment\nother:1:2\n1000:200000:1000\nme:100000:65536\n",
     [IDMapping(containerID: 0, hostID: 1000, size: 1), IDMapping(containerID: 1, hostID: 200000, size: 1000)]),
    ("me:bad:65536\nme:5:0\nme:1\n", [IDMapping(containerID: 0, hostID: 1000, size: 1)]),
    ("someone:100000:65536\n", [IDMapping(containerID: 0, hostID: 1000, size: 1)]),
] as [(String?, [IDMapping])])
func rootlessMappings(_ subuid: String?, _ expected: [IDMapping]) {
    #expect(RootlessIDs(uid: 1000, gid: 1000, userName: "me", subuid: subuid, subgid: nil).uidMappings == expected)
}

// MARK: - Overlay and sandbox

@Test(arguments: [
    (false, "lowerdir=/s/top:/s/base,upperdir=/u,workdir=/w,index=off,metacopy=off,redirect_dir=nofollow"),
    (true, "lowerdir=/s/top:/s/base,upperdir=/u,workdir=/w,index=off,metacopy=off,redirect_dir=nofollow,userxattr"),
])
func overlayOptions(_ userNamespace: Bool, _ expected: String) throws {
    let overlay = OverlayMount(lowerDirs: ["/s/top", "/s/base"], upperDir: "/u", workDir: "/w", mergedDir: "/m")
    #expect(try overlay.options(inUserNamespace: userNamespace) == expected)
}

@Test(arguments: [
    OverlayMount(lowerDirs: [], upperDir: "/u", workDir: "/w", mergedDir: "/m"),
    OverlayMount(lowerDirs: ["/a:b"], upperDir: "/u", workDir: "/w", mergedDir: "/m"),
    OverlayMount(lowerDirs: ["/a"], upperDir: "/u,x", workDir: "/w", mergedDir: "/m"),
    OverlayMount(lowerDirs: ["relative"], upperDir: "/u", workDir: "/w", mergedDir: "/m"),
])
func overlayRefusesPathsItCannotExpress(_ overlay: OverlayMount) {
    #expect(throws: RuntimeError.self) { try overlay.options(inUserNamespace: false) }
}

@Test(arguments: [
    (nil, [String]()),
    (noRanges, ["--map-root-user"]),
    (withRanges, ["--map-user=0", "--map-group=0", "--map-users=100000,1,65536", "--map-groups=100000,1,65536"]),
] as [(RootlessIDs?, [String])])
func sandboxNamespaces(_ rootless: RootlessIDs?, _ expected: [String]) throws {
    let sandbox = Sandbox(
        unshare: "/usr/bin/unshare", overlay: OverlayMount(lowerDirs: ["/l"], upperDir: "/u", workDir: "/w", mergedDir: "/b/rootfs"),
        rootless: rootless, runtime: OCIRuntime(kind: .crun, path: "/usr/bin/crun"), stateDir: "/s", bundle: "/b", id: "sit-1")
    let arguments = try sandbox.arguments()
    let separator = try #require(arguments.firstIndex(of: "--"))
    #expect(Array(arguments[1..<separator]) == expected + ["--mount", "--propagation", "private"])
    #expect(Array(arguments.suffix(11)) == [
        "crun", try sandbox.overlay.options(inUserNamespace: rootless != nil), "/b/rootfs",
        "/usr/bin/crun", "--cgroup-manager=disabled", "--root", "/s", "run", "--bundle", "/b", "sit-1",
    ])
}

@Test func runcGetsNoCgroupFlag() {
    let runc = OCIRuntime(kind: .runc, path: "/usr/sbin/runc")
    #expect(runc.runArguments(stateDir: "/s", bundle: "/b", id: "x") == ["/usr/sbin/runc", "--root", "/s", "run", "--bundle", "/b", "x"])
}

@Test func locatesARuntimeOrSaysWhatToInstall() throws {
    #expect(throws: RuntimeError.self) { try OCIRuntime.locate(preferring: [], searchPath: "") }
    let empty = FileManager.default.temporaryDirectory.appending(path: "sit-no-runtime-\(UUID().uuidString)").path
    do {
        let found = try OCIRuntime.locate(searchPath: empty)
        #expect(found.path.hasSuffix("/" + found.kind.rawValue))
    } catch {
        #expect(error.hint?.contains("apt-get install crun") == true)
    }
}

/// subgid(5) names the owner by login or uid, never by gid.
@Test func subgidRangesAreFoundByTheUser() {
    let ids = RootlessIDs(uid: 1000, gid: 50, userName: nil, subuid: nil, subgid: "50:7:7\n1000:500:10\n")
    #expect(ids.gidMappings == [IDMapping(containerID: 0, hostID: 50, size: 1), IDMapping(containerID: 1, hostID: 500, size: 10)])
    #expect(ids.uidMappings == [IDMapping(containerID: 0, hostID: 1000, size: 1)])
}
