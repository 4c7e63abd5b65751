import Foundation
import Testing

/// Progress as CI logs get it (stdout is not a TTY): every step that can take a while says what
/// it did and how long it took; on a terminal, a bar with bytes and rate.
@Suite(.serialized)
struct ProgressTests {
    /// `5.8 s`, `0.0 s`.
    static let duration = "[0-9]+\\.[0-9] s"
    /// `350.0 MB`, `512 B`.
    static let size = "[0-9.]+ [kMGT]?B"

    static func pattern(_ literal: String) -> String { NSRegularExpression.escapedPattern(for: literal) }

    @Test func aRootfsImportASnapshotAndARunStepEachPrintTheirDuration() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("""
                FROM \(fixture.baseReference)
                ENV A=1
                RUN echo hi > /hi
                COPY jars/spark-core_2.13-4.3.0.jar /opt/

                """)
            let build = try fixture.build(tag: "progress")
            let base = "\\[base\\] imported \(Self.pattern(fixture.baseReference)) \(Self.size) in \(Self.duration)\n"
            #expect(build.stdout.contains(try Regex(base)), "\(build)")
            #expect(build.stdout.contains(try Regex("\\[snapshot\\] unpacked layer [0-9a-f]{12} \(Self.size) in \(Self.duration)\n")), "\(build)")
            #expect(build.stdout.contains(try Regex("\\[2/3\\] RUN [^\n]*echo hi > /hi \(Self.duration)\n")), "\(build)")
            #expect(build.stdout.contains(try Regex("\\[3/3\\] COPY [^\n]*spark-core[^\n]* \(Self.duration)\n")), "\(build)")
            #expect(!build.stdout.contains("\u{1B}["), "no terminal control codes in a log")

            // Again: the rootfs comes from the layer cache and no snapshot is unpacked.
            let again = try fixture.build(tag: "progress")
            #expect(again.stdout.contains(try Regex("\\[base\\] imported \(Self.pattern(fixture.baseReference)) \\(layer cache\\) ")), "\(again)")
            #expect(!again.stdout.contains("[snapshot]"), "\(again)")
        }
    }

    /// Image files as bases: each import is one line with its size and duration.
    @Test(arguments: ["oci-layout", "oci-archive", "docker-archive"])
    func anImageFileImportPrintsItsDuration(format: String) throws {
        try RunFixture.with { fixture in
            let layout = fixture.dir.appending(path: "layout")
            try TinyBase.makeOCIImage(layout: layout)
            // skopeo names its transports as --base does.
            let base = format == "oci-layout" ? "oci-layout:\(layout.path)" : "\(format):\(fixture.dir.appending(path: "base.tar").path)"
            if format != "oci-layout" { try Command.run("skopeo", ["copy", "oci:\(layout.path):latest", base]).check() }
            try fixture.dockerfile("FROM \(base)\nCOPY jars/spark-core_2.13-4.3.0.jar /opt/\n")
            let build = try fixture.build(tag: format)
            #expect(build.stdout.contains(try Regex("\\[base\\] imported \(Self.pattern(base)) \(Self.size) in \(Self.duration)\n")), "\(build)")
        }
    }

    /// With --json the progress lines go to stderr and stdout stays one document.
    @Test func aRegistryBasePullPrintsItsDuration() throws {
        guard let registry = try TestServices.require(.registry) else { return }
        try RunFixture.with { fixture in
            let layout = fixture.dir.appending(path: "layout")
            try TinyBase.makeOCIImage(layout: layout)
            let base = "\(RegistryPushTests.uniqueRepository(registry))/base:1"
            try Command.run("skopeo", ["copy", "--dest-tls-verify=false", "oci:\(layout.path):latest", "docker://\(base)"]).check()
            try fixture.dockerfile("FROM \(base)\nCOPY jars/spark-core_2.13-4.3.0.jar /opt/\n")
            let build = try fixture.build(tag: "pulled", extra: ["--json"])
            #expect(build.stderr.contains(try Regex("\\[base\\] pulled \(Self.pattern(base)) \(Self.size) in \(Self.duration)\n")), "\(build)")
            let report = try JSONDocs.decode(JSONDocs.Build.self, build)
            #expect(report.images.map(\.reference) == ["docker.io/library/spark:pulled"], "stdout is the one document: \(build)")
        }
    }

    /// Under `script`, stdout is a terminal: the bar is drawn in place with bytes, total and rate.
    @Test func onATerminalABarShowsBytesAndRate() throws {
        try RunFixture.with { fixture in
            try fixture.dockerfile("FROM \(fixture.baseReference)\nCOPY jars /opt/spark/jars\n")
            let command = try ([try Binary.path()] + fixture.buildArguments(tag: "tty")).map { "'\($0)'" }.joined(separator: " ")
            let result = try Command.run("script", ["-q", "-e", "-c", "env -u CI TERM=xterm \(command)", "/dev/null"]).check()
            let bar = "\r\u{1B}\\[K    [^\r\n]*\\[#+\\.*\\] \(Self.size) / \(Self.size)  \(Self.size)/s"
            #expect(result.stdout.contains(try Regex(bar)), "\(result)")
            #expect(result.stdout.contains(try Regex("\\[base\\] imported [^\r\n]* in \(Self.duration)")), "\(result)")
        }
    }
}
