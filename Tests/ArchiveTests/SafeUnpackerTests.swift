import Archive
import Foundation
import Testing

/// The names image layers give deletions and opaque directories, read back as such.
@Test(arguments: [("bin/ls", "bin/.wh.ls"), ("top", ".wh.top"), ("a/b/c", "a/b/.wh.c")])
func whiteoutNames(_ path: String, _ expected: String) throws {
    #expect(EntryName.whiteout(of: path) == expected)
    let name = try #require(EntryName.whiteout(of: path).split(separator: "/").last)
    #expect(try EntryName.role(of: String(name)) == .whiteout(String(path.split(separator: "/").last!)))
}

@Test func opaqueMarkerName() throws {
    #expect(EntryName.opaqueMarker(in: "etc/apt") == "etc/apt/.wh..wh..opq")
    #expect(try EntryName.role(of: ".wh..wh..opq") == .opaque)
}

@Test(arguments: [
    ("etc/passwd", ["etc", "passwd"]), ("./etc/passwd", ["etc", "passwd"]), ("opt/spark/", ["opt", "spark"]),
    ("./", []), (".", []), ("././a", ["a"]), (".wh.x", [".wh.x"]),
])
func acceptsTarNames(_ name: String, _ components: [String]) throws {
    #expect(try EntryName.components(of: name) == components)
}

@Test(arguments: [
    ("", "empty"), ("/etc/passwd", "absolute"), ("../x", "'..'"), ("a/../../x", "'..'"), ("a/./b", "'.'"),
    ("a//b", "empty component"), ("./..", "'..'"),
])
func refusesNamesThatStepElsewhere(_ name: String, _ reason: String) {
    #expect { try EntryName.components(of: name) } throws: { ($0 as? EntryName.Refusal)?.reason.contains(reason) == true }
}

@Test(arguments: [
    ("file", EntryName.Role.plain), (".wh.file", .whiteout("file")), (".wh..wh..opq", .opaque),
    (".wh..wh.plnk", .aufsMetadata), (".wh..hidden", .whiteout(".hidden")), ("a.wh.b", .plain),
])
func recognisesWhiteoutsByExactName(_ component: String, _ role: EntryName.Role) throws {
    #expect(try EntryName.role(of: component) == role)
}

@Test(arguments: [".wh.", ".wh..", ".wh..."])
func refusesWhiteoutsOfNothingOrParents(_ component: String) {
    #expect(throws: EntryName.Refusal.self) { try EntryName.role(of: component) }
}

/// Tars written by Python's tarfile (not by us), unpacked beside a canary directory that
/// must come out byte for byte unchanged.
struct SafeUnpackerTests {
    /// One entry of a tar made by `makeTar`; `{canary}` in names and targets is replaced.
    struct Entry: Sendable {
        var name: String
        var type = "file"
        var link = ""
        var data = "payload"
        var mode = 0o644
        var device = (major: 0, minor: 0)

        var json: [String: Any] {
            ["name": name, "type": type, "link": link, "data": data, "mode": mode, "major": device.major, "minor": device.minor]
        }
    }

    static func file(_ name: String, _ data: String = "payload", mode: Int = 0o644) -> Entry { Entry(name: name, data: data, mode: mode) }
    static func dir(_ name: String, mode: Int = 0o755) -> Entry { Entry(name: name, type: "dir", mode: mode) }
    static func symlink(_ name: String, _ target: String) -> Entry { Entry(name: name, type: "symlink", link: target) }
    static func hardlink(_ name: String, _ target: String) -> Entry { Entry(name: name, type: "hardlink", link: target) }

    static func makeTar(_ entries: [Entry], at url: URL, canary: URL) throws {
        let spec = entries.map { entry -> [String: Any] in
            var json = entry.json
            json["name"] = entry.name.replacingOccurrences(of: "{canary}", with: canary.path)
            json["link"] = entry.link.replacingOccurrences(of: "{canary}", with: canary.path)
            return json
        }
        let specFile = url.appendingPathExtension("json")
        try JSONSerialization.data(withJSONObject: spec).write(to: specFile)
        try run("python3", "-c", """
            import io, json, sys, tarfile
            kinds = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                     "hardlink": tarfile.LNKTYPE, "chr": tarfile.CHRTYPE}
            with tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT) as tar:
                for e in json.load(open(sys.argv[1])):
                    info = tarfile.TarInfo(e["name"]); info.type = kinds[e["type"]]; info.mode = e["mode"]
                    info.linkname = e["link"]; info.mtime = 1000000
                    info.devmajor = e["major"]; info.devminor = e["minor"]
                    data = e["data"].encode() if e["type"] == "file" else b""
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            """, specFile.path, url.path)
    }

    /// Every path below `root` with its type, mode and content or target.
    static func snapshot(_ root: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let manager = FileManager.default
        for case let relative as String in manager.enumerator(atPath: root.path)! {
            let path = root.appendingPathComponent(relative).path
            let attributes = try manager.attributesOfItem(atPath: path)
            var description = "\(attributes[.type]!) \(attributes[.posixPermissions]!)"
            if attributes[.type] as? FileAttributeType == .typeSymbolicLink {
                description += " -> " + (try manager.destinationOfSymbolicLink(atPath: path))
            } else if attributes[.type] as? FileAttributeType == .typeRegular {
                description += " " + sha256(try Data(contentsOf: URL(fileURLWithPath: path)))
            }
            result[relative] = description
        }
        return result
    }

    /// A target directory and a canary directory beside it, holding a file and a subdirectory.
    static func withTargetAndCanary(_ body: (_ dir: URL, _ target: URL, _ canary: URL) throws -> Void) throws {
        try withTemporaryDirectory { dir in
            let target = dir.appendingPathComponent("target")
            let canary = dir.appendingPathComponent("canary")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: canary.appendingPathComponent("sub"), withIntermediateDirectories: true)
            try Data("do not touch\n".utf8).write(to: canary.appendingPathComponent(".bashrc"))
            try Data("nested\n".utf8).write(to: canary.appendingPathComponent("sub/file"))
            try body(dir, target, canary)
        }
    }

    struct Hostile: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var entries: [Entry]
        /// The entry the error must name.
        var culprit: String
    }

    static let hostile: [Hostile] = [
        Hostile(testDescription: "escaping symlink parent, then a file below it",
                entries: [dir("opt"), symlink("opt/app", "{canary}"), file("opt/app/.bashrc", "owned")], culprit: "opt/app/.bashrc"),
        Hostile(testDescription: "relative symlink parent climbing out",
                entries: [symlink("up", "../canary"), file("up/.bashrc", "owned")], culprit: "up/.bashrc"),
        Hostile(testDescription: "opaque whiteout below a symlink",
                entries: [dir("opt"), symlink("opt/app", "{canary}"), file("opt/app/.wh..wh..opq", "")], culprit: "opt/app/.wh..wh..opq"),
        Hostile(testDescription: "whiteout below a symlink",
                entries: [symlink("app", "{canary}"), file("app/.wh..bashrc", "")], culprit: "app/.wh..bashrc"),
        Hostile(testDescription: "whiteout of ..", entries: [file(".wh...", "")], culprit: ".wh..."),
        Hostile(testDescription: "whiteout of .. in a subdirectory", entries: [dir("a"), file("a/.wh...", "")], culprit: "a/.wh..."),
        Hostile(testDescription: "../ name", entries: [file("../canary/.bashrc", "owned")], culprit: "../canary/.bashrc"),
        Hostile(testDescription: "absolute name", entries: [file("{canary}/.bashrc", "owned")], culprit: "canary/.bashrc"),
        Hostile(testDescription: "hard link to /etc/passwd", entries: [hardlink("passwd", "/etc/passwd")], culprit: "passwd"),
        Hostile(testDescription: "hard link to a canary file, then writing it",
                entries: [hardlink("rc", "{canary}/.bashrc"), file("rc", "owned")], culprit: "rc"),
        Hostile(testDescription: "hard link climbing out", entries: [hardlink("x", "../../canary/.bashrc")], culprit: "x"),
        Hostile(testDescription: "hard link through a symlink",
                entries: [symlink("c", "{canary}"), hardlink("x", "c/.bashrc"), file("x", "owned")], culprit: "x"),
        Hostile(testDescription: "symlink chain",
                entries: [symlink("a", "b"), symlink("b", "{canary}"), file("a/.bashrc", "owned")], culprit: "a/.bashrc"),
        Hostile(testDescription: "symlink replaced by a directory entry keeps the canary",
                entries: [symlink("d", "{canary}"), dir("d/sub"), file("d/sub/file", "owned")], culprit: "d/sub"),
    ]

    @Test(arguments: hostile)
    func hostileArchiveChangesNothingOutside(_ testCase: Hostile) throws {
        try Self.withTargetAndCanary { dir, target, canary in
            let tar = dir.appendingPathComponent("evil.tar")
            try Self.makeTar(testCase.entries, at: tar, canary: canary)
            let before = try Self.snapshot(canary)
            let unpacker = try SafeUnpacker(into: target.path, options: UnpackOptions(ownership: .currentUser))
            #expect {
                try unpacker.unpack(tar.path, name: "evil.tar")
                try unpacker.finish()
            } throws: { error in
                let message = "\(error)"
                return message.contains("evil.tar") && message.contains("entry '") && message.contains(testCase.culprit)
            }
            #expect(try Self.snapshot(canary) == before)
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("evil.tar").path))
        }
    }

    @Test func layersApplyInOrderWithWhiteouts() throws {
        try Self.withTargetAndCanary { dir, target, canary in
            let lower = dir.appendingPathComponent("lower.tar")
            let upper = dir.appendingPathComponent("upper.tar")
            try Self.makeTar([
                Self.dir("./"), Self.dir("./etc"), Self.file("./etc/passwd", "root\n"), Self.symlink("./etc/link", "/etc/passwd"),
                Self.hardlink("./etc/same", "./etc/passwd"), Self.dir("./opt/app/lib"), Self.file("./opt/app/lib/a", "a"),
                Self.file("./opt/app/b", "b"), Self.dir("./ro", mode: 0o555), Self.file("./ro/f", "in a read-only directory"),
                Self.file("./gone", "x"), Self.symlink("./was-link", "{canary}"),
            ], at: lower, canary: canary)
            try Self.makeTar([
                Self.file("./.wh.gone", ""), Self.dir("./opt/app"), Self.file("./opt/app/-early", "same layer"),
                Self.file("./opt/app/.wh..wh..opq", ""), Self.file("./opt/app/c", "c"),
                Self.file("./was-link", "now a file"), Self.file("./etc/passwd", "replaced\n"),
            ], at: upper, canary: canary)
            let before = try Self.snapshot(canary)
            let unpacker = try SafeUnpacker(into: target.path, options: UnpackOptions(ownership: .currentUser))
            var removed: [String] = []
            for layer in [lower, upper] {
                try unpacker.unpack(layer.path, observe: { if case .removed(let path) = $0 { removed.append(path) } })
            }
            try unpacker.finish()
            let tree = try Self.snapshot(target)
            #expect(Set(tree.keys) == [
                "etc", "etc/passwd", "etc/link", "etc/same", "opt", "opt/app", "opt/app/-early", "opt/app/c", "ro", "ro/f", "was-link",
            ], "the opaque directory keeps what its own layer wrote before the marker")
            #expect(try String(contentsOf: target.appendingPathComponent("etc/passwd"), encoding: .utf8) == "replaced\n")
            #expect(try String(contentsOf: target.appendingPathComponent("etc/same"), encoding: .utf8) == "root\n",
                    "a file replaced by a later layer does not change its old hard links")
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target.appendingPathComponent("etc/link").path) == "/etc/passwd")
            #expect(try String(contentsOf: target.appendingPathComponent("was-link"), encoding: .utf8) == "now a file")
            #expect(removed.sorted() == ["gone", "opt/app/b", "opt/app/lib"])
            #expect(try Self.snapshot(canary) == before)
        }
    }

    /// The open parent directories are cached: a directory replaced by a file and made again
    /// must not take later entries into the removed one.
    @Test func aReplacedDirectoryIsNotWrittenThroughItsOldDescriptor() throws {
        try Self.withTargetAndCanary { dir, target, canary in
            let first = dir.appendingPathComponent("replace.tar")
            let second = dir.appendingPathComponent("whiteout.tar")
            try Self.makeTar([
                Self.dir("a/b"), Self.file("a/b/c", "old"), Self.file("a/b", "a file now"), Self.dir("a/b"), Self.file("a/b/d", "new"),
                Self.dir("a/b/e"), Self.file("a/b/e/f", "deep"),
            ], at: first, canary: canary)
            try Self.makeTar([Self.dir("a/b/e"), Self.file(".wh.a", ""), Self.file("a/b/e/g", "after the whiteout")], at: second, canary: canary)
            let unpacker = try SafeUnpacker(into: target.path, options: UnpackOptions(ownership: .currentUser))
            try unpacker.unpack(first.path)
            #expect(Set(try Self.snapshot(target).keys) == ["a", "a/b", "a/b/d", "a/b/e", "a/b/e/f"])
            try unpacker.unpack(second.path)
            try unpacker.finish()
            #expect(Set(try Self.snapshot(target).keys) == ["a", "a/b", "a/b/e", "a/b/e/g"])
        }
    }

    @Test(.enabled(if: geteuid() == 0, "mknod needs root"))
    func devicesAreMadeWhenAllowed() throws {
        try Self.withTargetAndCanary { dir, target, canary in
            let tar = dir.appendingPathComponent("dev.tar")
            try Self.makeTar([Self.dir("dev"), Entry(name: "dev/console", type: "chr", data: "", mode: 0o600, device: (5, 1))], at: tar, canary: canary)
            let unpacker = try SafeUnpacker(into: target.path, options: UnpackOptions(ownership: .preserve, allowDevices: true))
            try unpacker.unpack(tar.path)
            let listing = try run("stat", "-c", "%F %t:%T %a", target.appendingPathComponent("dev/console").path)
            #expect(listing == "character special file 5:1 600\n")
            #expect(unpacker.notes.isEmpty)
        }
    }

    @Test func preservesModesOwnersAndTimes() throws {
        try Self.withTargetAndCanary { dir, target, canary in
            let tar = dir.appendingPathComponent("modes.tar")
            try Self.makeTar([Self.dir("bin", mode: 0o555), Self.file("bin/su", "#!", mode: 0o4755), Self.file("secret", "s", mode: 0o400)],
                             at: tar, canary: canary)
            let ownership: UnpackOptions.Ownership = geteuid() == 0 ? .preserve : .currentUser
            let unpacker = try SafeUnpacker(into: target.path, options: UnpackOptions(ownership: ownership))
            try unpacker.unpack(tar.path)
            try unpacker.finish()
            var info = stat()
            #expect(lstat(target.appendingPathComponent("bin/su").path, &info) == 0)
            #expect(info.st_mode & 0o7777 == (ownership == .preserve ? 0o4755 : 0o755), "setuid only when ownership is preserved")
            #expect(info.st_mtim.tv_sec == 1_000_000)
            #expect(lstat(target.appendingPathComponent("bin").path, &info) == 0)
            #expect(info.st_mode & 0o7777 == (ownership == .preserve ? 0o555 : 0o755))
            #expect(info.st_mtim.tv_sec == 1_000_000, "a directory's mtime is set after its children are in")
        }
    }

    @Test func overlayPolicyRecordsWhiteoutsAsOverlayfsDoes() throws {
        try Self.withTargetAndCanary { dir, target, canary in
            let tar = dir.appendingPathComponent("layer.tar")
            try Self.makeTar([Self.dir("etc"), Self.file("etc/.wh.motd", ""), Self.dir("opt"), Self.file("opt/.wh..wh..opq", "")],
                             at: tar, canary: canary)
            let xattr = geteuid() == 0 ? "trusted.overlay.opaque" : "user.overlay.opaque"
            let unpacker = try SafeUnpacker(into: target.path, options: UnpackOptions(whiteouts: .overlay(opaqueXattr: xattr), ownership: .currentUser))
            try unpacker.unpack(tar.path)
            try unpacker.finish()
            var info = stat()
            #expect(lstat(target.appendingPathComponent("etc/motd").path, &info) == 0)
            #expect(info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0, "a whiteout is a 0/0 character device")
            let value = try run("python3", "-c", "import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())",
                                target.appendingPathComponent("opt").path, xattr)
            #expect(value == "y\n")
        }
    }

    @Test func devicesAreSkippedWithANoteUnlessAllowed() throws {
        try Self.withTargetAndCanary { dir, target, canary in
            let tar = dir.appendingPathComponent("dev.tar")
            try Self.makeTar([Self.dir("dev"), Entry(name: "dev/console", type: "chr", data: ""), Self.file("ok", "ok")], at: tar, canary: canary)
            let unpacker = try SafeUnpacker(into: target.path, options: UnpackOptions(ownership: .currentUser))
            try unpacker.unpack(tar.path)
            #expect(unpacker.notes.count == 1 && unpacker.notes[0].hasPrefix("dev/console"))
            #expect(!FileManager.default.fileExists(atPath: target.appendingPathComponent("dev/console").path))
            #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("ok").path))
        }
    }
}

/// The decompressors ADD accepts are libarchive's built-in ones: each reads an archive made
/// by its reference tool (GNU tar with gzip, bzip2, xz, zstd).
@Test(arguments: ["gzip", "bzip2", "xz", "zstd"])
func readsEveryShippedCompression(_ program: String) throws {
    try withTemporaryDirectory { dir in
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tree/sub"), withIntermediateDirectories: true)
        try Data("content\n".utf8).write(to: dir.appendingPathComponent("tree/sub/file"))
        let archive = dir.appendingPathComponent("a.tar.\(program)")
        try run("tar", "-C", dir.appendingPathComponent("tree").path, "--use-compress-program=\(program)", "-cf", archive.path, "sub")
        let reader = try TarReader(path: archive.path)
        var paths: [String] = []
        while let entry = try reader.next() { paths.append(entry.path) }
        #expect(paths == ["sub/", "sub/file"])
    }
}

/// The first bytes of a file must not make libarchive run a program: lrzip is always an
/// external program in libarchive, so a fake `lrzip` on PATH would run under `filter_all`.
@Test func compressedTarsNeverRunExternalPrograms() throws {
    try withTemporaryDirectory { dir in
        let bin = dir.appendingPathComponent("bin")
        let ran = dir.appendingPathComponent("ran")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let fake = bin.appendingPathComponent("lrzip")
        try Data("#!/bin/sh\ntouch '\(ran.path)'\ncat >/dev/null\n".utf8).write(to: fake)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let archive = dir.appendingPathComponent("x.tar.lrz")
        try Data([UInt8]("LRZI".utf8) + [0, 6] + [UInt8](repeating: 0, count: 1024)).write(to: archive)
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        // Prepending a directory that only holds `lrzip` cannot disturb tests running alongside.
        setenv("PATH", "\(bin.path):\(path)", 1)
        defer { setenv("PATH", path, 1) }
        #expect(throws: ArchiveError.self) {
            let reader = try TarReader(path: archive.path)
            while try reader.next() != nil {}
        }
        #expect(!FileManager.default.fileExists(atPath: ran.path), "libarchive ran the archive's choice of program")
    }
}

/// A build context file is read only if it is still the file that was planned: swapped for a
/// symlink to it, or replaced, between planning and reading, it is an error naming it.
@Test(arguments: ["symlink", "replace"])
func aFileSwappedAfterPlanningIsNotRead(_ swap: String) throws {
    try withTemporaryDirectory { dir in
        let file = dir.appendingPathComponent("conf")
        let moved = dir.appendingPathComponent("moved")
        try Data("planned\n".utf8).write(to: file)
        var info = stat()
        #expect(lstat(file.path, &info) == 0)
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        try FileManager.default.moveItem(at: file, to: moved)
        if swap == "symlink" {
            try FileManager.default.createSymbolicLink(at: file, withDestinationURL: moved)
        } else {
            try Data("swapped\n".utf8).write(to: file)
        }
        let tar = try TarWriter(sink: try FileSink(creating: dir.appendingPathComponent("out.tar").path))
        #expect {
            try tar.append(TarEntry(path: "conf", kind: .file(size: 8), mode: 0o644), contents: .checkedFile(path: file.path, identity: identity))
        } throws: { error in
            "\(error)".contains(file.path)
        }
    }
}

/// Snapshot speed for RUN: a Java base root file system (scripts/make-base-image.sh) named by
/// SIT_UNPACK_BENCH_TAR unpacks, ownership preserved, in under 2 s (a release build's target;
/// a debug build prints its time). Skipped, and so recorded, without the variable.
@Test(.enabled(if: ProcessInfo.processInfo.environment["SIT_UNPACK_BENCH_TAR"] != nil))
func unpacksAJavaBaseQuickly() throws {
    let tarball = ProcessInfo.processInfo.environment["SIT_UNPACK_BENCH_TAR"]!
    try withTemporaryDirectory { dir in
        let target = dir.appendingPathComponent("snapshot")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let unpacker = try SafeUnpacker(into: target.path, options: UnpackOptions(
            whiteouts: .overlay(opaqueXattr: "trusted.overlay.opaque"), ownership: geteuid() == 0 ? .preserve : .currentUser))
        let clock = ContinuousClock()
        let elapsed = try clock.measure {
            try unpacker.unpack(tarball)
            try unpacker.finish()
        }
        print("unpacked \(tarball) in \(elapsed)")
        #expect(FileManager.default.fileExists(atPath: target.appendingPathComponent("usr/bin/java").path))
        #if !DEBUG
        #expect(elapsed < .seconds(2))
        #endif
    }
}
