import Testing
import Dockerfile

private let arm64 = TargetPlatform(architecture: "arm64", variant: "v8")
private let amd64 = TargetPlatform(architecture: "amd64")

private func planner(_ text: String, _ buildArgs: [String: String] = [:]) throws -> BuildPlanner {
    BuildPlanner(
        dockerfile: try Dockerfile.parse(text, file: "Dockerfile"), buildArgs: buildArgs,
        platform: arm64, buildPlatform: amd64)
}

private func copyStep(
    _ line: Int, _ createdBy: String, _ sources: [String], _ destination: String, directory: Bool = false,
    from: CopySource = .context, chown: String? = nil, chmod: UInt32? = nil, link: Bool = false,
    excludes: [String] = [], isAdd: Bool = false
) -> PlannedStep {
    PlannedStep(line: line, createdBy: createdBy, action: .copy(CopyStep(
        isAdd: isAdd, sources: sources, destination: destination, destinationIsDirectory: directory,
        from: from, chown: chown, chmod: chmod, link: link, excludes: excludes)))
}

// MARK: - The Spark image

private let sparkDockerfile = """
    # syntax=docker/dockerfile:1
    ARG java_image_tag=17-jre

    FROM eclipse-temurin:${java_image_tag}

    ARG spark_uid=185

    COPY jars /opt/spark/jars
    # Copy RELEASE file if exists
    COPY RELEAS[E] /opt/spark/RELEASE
    COPY bin /opt/spark/bin
    COPY sbin /opt/spark/sbin
    COPY --chmod=0755 kubernetes/dockerfiles/spark/entrypoint.sh /opt/
    COPY kubernetes/dockerfiles/spark/decom.sh /opt/
    COPY examples /opt/spark/examples
    COPY data /opt/spark/data

    ENV SPARK_HOME /opt/spark

    WORKDIR /opt/spark/work-dir

    ENTRYPOINT [ "/opt/entrypoint.sh" ]

    # Specify the User that the actual main process will run as
    USER ${spark_uid}
    """

private let temurin = BaseState(env: ["PATH=/opt/java/openjdk/bin:/usr/bin:/bin", "JAVA_HOME=/opt/java/openjdk"])

private func sparkSteps(user: String) -> [PlannedStep] {
    [
        copyStep(8, "COPY jars /opt/spark/jars", ["jars"], "/opt/spark/jars"),
        copyStep(10, "COPY RELEAS[E] /opt/spark/RELEASE", ["RELEAS[E]"], "/opt/spark/RELEASE"),
        copyStep(11, "COPY bin /opt/spark/bin", ["bin"], "/opt/spark/bin"),
        copyStep(12, "COPY sbin /opt/spark/sbin", ["sbin"], "/opt/spark/sbin"),
        copyStep(13, "COPY --chmod=0755 kubernetes/dockerfiles/spark/entrypoint.sh /opt/",
                 ["kubernetes/dockerfiles/spark/entrypoint.sh"], "/opt", directory: true, chmod: 0o755),
        copyStep(14, "COPY kubernetes/dockerfiles/spark/decom.sh /opt/",
                 ["kubernetes/dockerfiles/spark/decom.sh"], "/opt", directory: true),
        copyStep(15, "COPY examples /opt/spark/examples", ["examples"], "/opt/spark/examples"),
        copyStep(16, "COPY data /opt/spark/data", ["data"], "/opt/spark/data"),
        PlannedStep(line: 18, createdBy: "ENV SPARK_HOME=/opt/spark", action: .env([KeyValue(key: "SPARK_HOME", value: "/opt/spark")])),
        PlannedStep(line: 20, createdBy: "WORKDIR /opt/spark/work-dir", action: .workdir("/opt/spark/work-dir")),
        PlannedStep(line: 22, createdBy: #"ENTRYPOINT ["/opt/entrypoint.sh"]"#, action: .entrypoint(["/opt/entrypoint.sh"], resetsCmd: true)),
        PlannedStep(line: 25, createdBy: "USER \(user)", action: .user(user)),
    ]
}

@Test func plansSparkImageWithDefaults() throws {
    let planner = try planner(sparkDockerfile)
    let stages = try planner.stages()
    #expect(stages == [StageHeader(index: 0, name: nil, base: .image("eclipse-temurin:17-jre"), platform: nil, line: 4)])
    #expect(try planner.evaluate(stages[0], base: temurin).steps == sparkSteps(user: "185"))
    #expect(planner.unusedBuildArgs == [])
}

@Test func plansSparkImageWithBuildArgs() throws {
    let planner = try planner(sparkDockerfile, ["java_image_tag": "21-jre", "spark_uid": "1000", "extra": "1"])
    let stages = try planner.stages()
    #expect(stages.map(\.base) == [.image("eclipse-temurin:21-jre")])
    #expect(try planner.evaluate(stages[0], base: temurin).steps == sparkSteps(user: "1000"))
    #expect(planner.unusedBuildArgs == ["extra"])
}

// MARK: - Several stages

private let multiStage = """
    ARG BASE=ubuntu:22.04
    FROM --platform=$BUILDPLATFORM ${BASE} AS Fetch
    WORKDIR /src
    COPY --link spark.tgz ./
    FROM scratch AS final
    COPY --from=fetch --chown=185:0 /src/spark.tgz /opt/
    COPY --from=0 --exclude=*.md /src /copied/
    COPY --from=busybox:1.36 /bin/busybox /bin/
    FROM Fetch
    ADD --chown=spark  https://example.com/a.tgz b.tgz ./
    """

@Test func plansMultiStageBuild() throws {
    let planner = try planner(multiStage)
    let stages = try planner.stages()
    #expect(stages == [
        StageHeader(index: 0, name: "fetch", base: .image("ubuntu:22.04"), platform: "linux/amd64", line: 2),
        StageHeader(index: 1, name: "final", base: .scratch, platform: nil, line: 5),
        StageHeader(index: 2, name: nil, base: .stage(0), platform: nil, line: 9),
    ])
    #expect(try planner.evaluate(stages[0], base: BaseState()).steps == [
        PlannedStep(line: 3, createdBy: "WORKDIR /src", action: .workdir("/src")),
        copyStep(4, "COPY --link spark.tgz ./", ["spark.tgz"], "/src", directory: true, link: true),
    ])
    #expect(try planner.evaluate(stages[1], base: BaseState()).steps == [
        copyStep(6, "COPY --from=fetch --chown=185:0 /src/spark.tgz /opt/", ["/src/spark.tgz"], "/opt",
                 directory: true, from: .stage(0), chown: "185:0"),
        copyStep(7, "COPY --from=0 --exclude=*.md /src /copied/", ["/src"], "/copied",
                 directory: true, from: .stage(0), excludes: ["*.md"]),
        copyStep(8, "COPY --from=busybox:1.36 /bin/busybox /bin/", ["/bin/busybox"], "/bin",
                 directory: true, from: .image("busybox:1.36")),
    ])
    #expect(try planner.evaluate(stages[2], base: BaseState(workingDir: "/src")).steps == [
        copyStep(10, "ADD --chown=spark https://example.com/a.tgz b.tgz ./", ["https://example.com/a.tgz", "b.tgz"], "/src",
                 directory: true, chown: "spark", isAdd: true),
    ])
}

// MARK: - FROM lines

struct StageCase: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    var buildArgs: [String: String] = [:]
    let bases: [BaseReference]
    var platforms: [String?]? = nil
    var testDescription: String { name }
}

let stageCases: [StageCase] = [
    StageCase(name: "global ARG default", text: "ARG TAG=17\nFROM img:${TAG}", bases: [.image("img:17")]),
    StageCase(name: "build arg overrides a global ARG", text: "ARG TAG=17\nFROM img:${TAG}", buildArgs: ["TAG": "21"], bases: [.image("img:21")]),
    StageCase(name: "global ARG uses an earlier one", text: "ARG REG=example.com\nARG IMG=${REG}/spark\nFROM $IMG", bases: [.image("example.com/spark")]),
    StageCase(name: "undeclared build arg is not visible", text: "FROM img:${TAG:-x}", buildArgs: ["TAG": "y"], bases: [.image("img:x")]),
    StageCase(name: "ARG inside a stage is not global", text: "FROM a\nARG TAG=1\nFROM img:${TAG:-none}", bases: [.image("a"), .image("img:none")]),
    StageCase(name: "predefined platform args need no ARG in FROM",
              text: "FROM --platform=$TARGETPLATFORM img-$TARGETARCH$TARGETVARIANT\nFROM --platform=${BUILDOS}/${BUILDARCH} b",
              bases: [.image("img-arm64v8"), .image("b")], platforms: ["linux/arm64/v8", "linux/amd64"]),
    StageCase(name: "scratch in any case", text: "FROM SCRATCH", bases: [.scratch]),
    StageCase(name: "earlier stage by name, case-insensitive", text: "FROM a AS base\nFROM BASE\nFROM base AS next", bases: [.image("a"), .stage(0), .stage(0)]),
    StageCase(name: "a later stage's name is an image", text: "FROM later\nFROM a AS later", bases: [.image("later"), .image("a")]),
]

@Test(arguments: stageCases)
func expandsFromLines(_ test: StageCase) throws {
    let stages = try planner(test.text, test.buildArgs).stages()
    #expect(stages.map(\.base) == test.bases)
    #expect(stages.map(\.index) == Array(test.bases.indices))
    if let platforms = test.platforms { #expect(stages.map(\.platform) == platforms) }
}

// MARK: - Expansion scope and instruction effects

struct ScopeCase: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    var buildArgs: [String: String] = [:]
    var base = BaseState()
    let actions: [Action]
    var testDescription: String { name }
}

private func env(_ pairs: KeyValuePairs<String, String>) -> Action {
    .env(pairs.map { KeyValue(key: $0.key, value: $0.value) })
}

private func label(_ pairs: KeyValuePairs<String, String>) -> Action {
    .label(pairs.map { KeyValue(key: $0.key, value: $0.value) })
}

let scopeCases: [ScopeCase] = [
    ScopeCase(name: "a global ARG is visible in a stage only once declared again",
              text: "ARG V=1\nFROM a\nENV X=${V:-unset}\nARG V\nENV Y=$V",
              actions: [env(["X": "unset"]), env(["Y": "1"])]),
    ScopeCase(name: "a build arg reaches the stage through the declaration",
              text: "ARG V=1\nFROM a\nENV X=${V:-unset}\nARG V\nENV Y=$V", buildArgs: ["V": "9"],
              actions: [env(["X": "unset"]), env(["Y": "9"])]),
    ScopeCase(name: "a stage default beats the global value", text: "ARG V=1\nFROM a\nARG V=2\nENV X=$V",
              actions: [env(["X": "2"])]),
    ScopeCase(name: "a build arg beats a stage default", text: "ARG V=1\nFROM a\nARG V=2\nENV X=$V", buildArgs: ["V": "3"],
              actions: [env(["X": "3"])]),
    ScopeCase(name: "an undeclared build arg is invisible", text: "FROM a\nENV X=${Z:-none}", buildArgs: ["Z": "9"],
              actions: [env(["X": "none"])]),
    ScopeCase(name: "ENV wins over ARG whatever the order",
              text: "FROM a\nARG V=arg\nENV V=env\nARG V=again\nLABEL l=$V",
              actions: [env(["V": "env"]), label(["l": "env"])]),
    ScopeCase(name: "ARG wins over the base image's environment",
              text: "FROM a\nLABEL before=$V\nARG V=arg\nLABEL after=$V p=$P",
              base: BaseState(env: ["V=base", "P=/bin"]),
              actions: [label(["before": "base"]), label(["after": "arg", "p": "/bin"])]),
    ScopeCase(name: "ENV expands with the values from before the instruction",
              text: "FROM a\nENV A=1\nENV A=2 B=$A",
              actions: [env(["A": "1"]), env(["A": "2", "B": "1"])]),
    ScopeCase(name: "ARG declarations apply left to right", text: "FROM a\nARG A=1 B=${A}2\nENV B=$B",
              actions: [env(["B": "12"])]),
    ScopeCase(name: "predefined platform args in a stage need ARG",
              text: "FROM a\nENV A=${TARGETARCH:-unset}\nARG TARGETARCH TARGETPLATFORM BUILDARCH\nENV B=$TARGETARCH C=$TARGETPLATFORM D=$BUILDARCH",
              actions: [env(["A": "unset"]), env(["B": "arm64", "C": "linux/arm64/v8", "D": "amd64"])]),
    ScopeCase(name: "quotes and escapes in ENV",
              text: "FROM a\n" + #"ENV A="x y" B='$HOME' C=\$HOME D=a\ b E="$HOME""#,
              base: BaseState(env: ["HOME=/root"]),
              actions: [env(["A": "x y", "B": "$HOME", "C": "$HOME", "D": "a b", "E": "/root"])]),
    ScopeCase(name: "legacy ENV expands the whole rest of the line", text: "FROM a\nENV X=1\nENV L $X and  more",
              actions: [env(["X": "1"]), env(["L": "1 and  more"])]),
    ScopeCase(name: "shell forms use the current SHELL and are not expanded; ENTRYPOINT after CMD keeps it",
              text: "FROM a\nENV X=1\nCMD echo $X\nENTRYPOINT [\"/e\"]\nSHELL [\"/bin/bash\", \"-c\"]\nENTRYPOINT exec java",
              actions: [env(["X": "1"]), .cmd(["/bin/sh", "-c", "echo $X"]), .entrypoint(["/e"], resetsCmd: false),
                        .shell(["/bin/bash", "-c"]), .entrypoint(["/bin/bash", "-c", "exec java"], resetsCmd: false)]),
    ScopeCase(name: "ENTRYPOINT without an earlier CMD resets the inherited one", text: "FROM a\nENTRYPOINT [\"/e\"]\nCMD []",
              actions: [.entrypoint(["/e"], resetsCmd: true), .cmd([])]),
    ScopeCase(name: "the base image's shell wraps shell forms", text: "FROM a\nCMD run it",
              base: BaseState(shell: ["/bin/ash", "-eo", "pipefail", "-c"]),
              actions: [.cmd(["/bin/ash", "-eo", "pipefail", "-c", "run it"])]),
    ScopeCase(name: "WORKDIR and COPY destinations resolve against the working directory",
              text: "FROM a\nWORKDIR app\nWORKDIR ../lib/./x/\nENV D=/data\nWORKDIR $D\nCOPY f sub/\nCOPY g .\nCOPY h ../h",
              base: BaseState(workingDir: "/opt"),
              actions: [.workdir("/opt/app"), .workdir("/opt/lib/x"), env(["D": "/data"]), .workdir("/data"),
                        .copy(CopyStep(sources: ["f"], destination: "/data/sub", destinationIsDirectory: true)),
                        .copy(CopyStep(sources: ["g"], destination: "/data", destinationIsDirectory: true)),
                        .copy(CopyStep(sources: ["h"], destination: "/h", destinationIsDirectory: false))]),
    ScopeCase(name: "EXPOSE normalises, splits variables and expands ranges",
              text: "FROM a\nARG PORTS=\"4040 7077\"\nEXPOSE 8080 $PORTS 8000-8002/UDP 8080/tcp",
              actions: [.expose(["8080/tcp", "4040/tcp", "7077/tcp", "8000/udp", "8001/udp", "8002/udp"])]),
    ScopeCase(name: "LABEL, VOLUME, STOPSIGNAL, USER and MAINTAINER",
              text: "FROM a\nARG V=3.5\nLABEL org.opencontainers.image.version=$V \"desc\"=\"Apache Spark\"\n"
                  + "VOLUME /data /v$V\nVOLUME [\"/logs\"]\nSTOPSIGNAL SIG${SIG:-TERM}\nUSER ${U:-185}:0\n"
                  + "MAINTAINER Spark Devs <dev@spark.apache.org>",
              actions: [label(["org.opencontainers.image.version": "3.5", "desc": "Apache Spark"]),
                        .volume(["/data", "/v3.5"]), .volume(["/logs"]), .stopSignal("SIGTERM"), .user("185:0"),
                        .maintainer("Spark Devs <dev@spark.apache.org>")]),
    ScopeCase(name: "HEALTHCHECK forms and durations",
              text: "FROM a\nHEALTHCHECK --interval=1m30s --timeout=500ms --start-period=0s --start-interval=2s --retries=3 \\\n"
                  + "  CMD curl -f http://localhost:4040/ || exit 1\nHEALTHCHECK CMD [\"/bin/check\"]\nHEALTHCHECK none",
              actions: [.healthcheck(Healthcheck(test: ["CMD-SHELL", "curl -f http://localhost:4040/ || exit 1"],
                                                 interval: 90_000_000_000, timeout: 500_000_000, startPeriod: nil,
                                                 startInterval: 2_000_000_000, retries: 3)),
                        .healthcheck(Healthcheck(test: ["CMD", "/bin/check"])), .healthcheck(Healthcheck(test: ["NONE"]))]),
    ScopeCase(name: "variables in COPY sources, destination and flags",
              text: "FROM a AS b\nFROM a\nARG FROM=B UID=185 MODE=644\nENV DEST=/opt/spark\n"
                  + "COPY --from=$FROM --chown=${UID}:${UID} --chmod=$MODE --exclude=${X:-*.tmp} \"$DEST-conf\" ${DEST}/conf/",
              actions: [env(["DEST": "/opt/spark"]),
                        .copy(CopyStep(sources: ["/opt/spark-conf"], destination: "/opt/spark/conf", destinationIsDirectory: true,
                                       from: .stage(0), chown: "185:185", chmod: 0o644, excludes: ["*.tmp"]))]),
]

@Test(arguments: scopeCases)
func evaluatesLastStage(_ test: ScopeCase) throws {
    let planner = try planner(test.text, test.buildArgs)
    let last = try #require(try planner.stages().last)
    #expect(try planner.evaluate(last, base: test.base).steps.map(\.action) == test.actions)
}

@Test(arguments: [
    ("EXPOSE 8080 4040/udp", "EXPOSE 8080/tcp 4040/udp"),
    ("VOLUME /data", #"VOLUME ["/data"]"#),
    (#"LABEL a=b c="d e""#, "LABEL a=b c=d e"),
    ("HEALTHCHECK --interval=30s CMD curl -f http://x/", "HEALTHCHECK --interval=30s CMD curl -f http://x/"),
    (#"HEALTHCHECK CMD ["/bin/check", "-q"]"#, #"HEALTHCHECK CMD ["/bin/check","-q"]"#),
    ("HEALTHCHECK NONE", "HEALTHCHECK NONE"),
    ("CMD echo hi", #"CMD ["/bin/sh","-c","echo hi"]"#),
    (#"SHELL ["/bin/bash", "-c"]"#, #"SHELL ["/bin/bash","-c"]"#),
    ("STOPSIGNAL SIGTERM", "STOPSIGNAL SIGTERM"),
    ("MAINTAINER me", "MAINTAINER me"),
    ("ADD --link=true a.tgz /x/", "ADD --link=true a.tgz /x/"),
])
func writesHistoryText(_ instruction: String, _ createdBy: String) throws {
    let planner = try planner("FROM a\n" + instruction)
    let stage = try #require(try planner.stages().first)
    #expect(try planner.evaluate(stage, base: BaseState()).steps.map(\.createdBy) == [createdBy])
}

@Test func reportsBuildArgsNoARGDeclares() throws {
    let planner = try planner("ARG A\nFROM a\nARG B=1", ["A": "1", "B": "2", "C": "3", "HTTP_PROXY": "p", "TARGETARCH": "x", "Z": "4"])
    #expect(planner.unusedBuildArgs == ["C", "Z"])
}
