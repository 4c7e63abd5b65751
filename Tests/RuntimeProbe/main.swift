// Runs one command through the Runtime module and prints what came back, so RuntimeTests can
// run the whole path (namespaces, overlay, runtime, diff) as an unprivileged user:
//
//   RuntimeProbe LOWER UPPER SCRATCH crun|runc root|rootless* [TMPFS_DESTINATION|-] -- ARGS...
//
// Prints `line: TEXT` per output line, `status: N`, then `change: PATH KIND UID GID` per change.
import Foundation
import Glibc
import Runtime

let arguments = CommandLine.arguments
guard arguments.count > 8, let separator = arguments.firstIndex(of: "--"), separator == 7,
      let kind = OCIRuntime.Kind(rawValue: arguments[4])
else {
    FileHandle.standardError.write(Data("usage: RuntimeProbe LOWER UPPER SCRATCH crun|runc root|rootless TMPFS|- -- ARGS...\n".utf8))
    exit(2)
}
let (lower, upper, scratch) = (arguments[1], arguments[2], arguments[3])
let rootless = arguments[5] == "root" ? nil : RootlessIDs.currentUser()
let mounts = arguments[6] == "-" ? [] : [BundleMount.tmpfs(destination: arguments[6], sizeBytes: nil)]

func describe(_ kind: UpperChange.Kind) -> String {
    switch kind {
    case .directory(let opaque): opaque ? "opaque-dir" : "dir"
    case .file(let size): "file:\(size)"
    case .symlink(let target): "symlink:\(target)"
    case .hardlink(let target): "hardlink:\(target)"
    case .whiteout: "whiteout"
    case .special: "special"
    }
}

do {
    let runner = BundleRunner(runtime: try OCIRuntime.locate(preferring: [kind]), scratchDir: scratch)
    let spec = BundleSpec(
        args: Array(arguments[(separator + 1)...]), env: ["PATH=/bin"], rootPath: "rootfs", mounts: mounts, rootless: rootless)
    let status = try runner.run(spec, lowerDirs: [lower], upperDir: upper) { print("line: \($0)") }
    print("status: \(status)")
    for change in try UpperDirectory.changes(at: upper, ids: rootless) {
        print("change: \(change.path) \(describe(change.kind)) \(change.uid) \(change.gid)")
    }
} catch {
    print("error: \(error)")
    exit(1)
}
