import Testing
import Dockerfile

private let amd64 = TargetPlatform(architecture: "amd64")
private let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/// The RUN steps of the last stage.
private func runSteps(_ text: String, buildArgs: [String: String] = [:], base: BaseState = BaseState()) throws -> [RunStep] {
    let planner = BuildPlanner(dockerfile: try Dockerfile.parse(text, file: "Dockerfile"), buildArgs: buildArgs, platform: amd64)
    let last = try #require(try planner.stages().last)
    return try planner.evaluate(last, base: base).steps.compactMap { step in
        if case .run(let run) = step.action { return run } else { return nil }
    }
}

struct RunCase: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    var buildArgs: [String: String] = [:]
    var base = BaseState()
    let expected: [RunStep]
    var testDescription: String { name }
}

private func run(
    _ command: [String], env: [String] = [path], user: String? = nil, workdir: String = "/",
    network: RunNetwork = .default, mounts: [RunMount] = []
) -> RunStep {
    RunStep(command: command, environment: env, user: user, workdir: workdir, network: network, mounts: mounts, platform: "linux/amd64")
}

let runCases: [RunCase] = [
    RunCase(name: "shell form through the default shell, not expanded by the planner",
            text: "FROM a\nRUN echo $HOME && ls", expected: [run(["/bin/sh", "-c", "echo $HOME && ls"])]),
    RunCase(name: "exec form as written", text: "FROM a\nRUN [\"/bin/echo\", \"$HOME\"]", expected: [run(["/bin/echo", "$HOME"])]),
    RunCase(name: "continuation lines joined", text: "FROM a\nRUN apt-get update && \\\n    apt-get install -y tini",
            expected: [run(["/bin/sh", "-c", "apt-get update &&     apt-get install -y tini"])]),
    RunCase(name: "SHELL changes later RUNs only",
            text: "FROM a\nRUN one\nSHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]\nRUN two",
            expected: [run(["/bin/sh", "-c", "one"]), run(["/bin/bash", "-eo", "pipefail", "-c", "two"])]),
    RunCase(name: "the base image's shell", text: "FROM a\nRUN x", base: BaseState(shell: ["/bin/ash", "-c"]),
            expected: [run(["/bin/ash", "-c", "x"])]),
    RunCase(name: "image ENV, ARGs in scope, ENV over ARG, sorted; the image's PATH kept",
            text: "FROM a\nARG V=arg W\nENV V=env\nARG X=1\nRUN env",
            base: BaseState(env: ["PATH=/opt/bin", "JAVA_HOME=/opt/java"]),
            expected: [run(["/bin/sh", "-c", "env"], env: ["JAVA_HOME=/opt/java", "PATH=/opt/bin", "V=env", "X=1"])]),
    RunCase(name: "a build arg reaches RUN only through ARG; proxies need no ARG",
            text: "FROM a\nARG B\nRUN env", buildArgs: ["B": "given", "C": "undeclared", "https_proxy": "http://p:3128"],
            expected: [run(["/bin/sh", "-c", "env"], env: ["B=given", path, "https_proxy=http://p:3128"])]),
    RunCase(name: "USER and WORKDIR in scope; the base image's user until USER",
            text: "FROM a\nRUN one\nWORKDIR /opt/spark\nUSER ${U:-185}\nWORKDIR work-dir\nRUN two",
            base: BaseState(workingDir: "/srv", user: "daemon"),
            expected: [run(["/bin/sh", "-c", "one"], user: "daemon", workdir: "/srv"),
                       run(["/bin/sh", "-c", "two"], user: "185", workdir: "/opt/spark/work-dir")]),
    RunCase(name: "--network values", text: "FROM a\nRUN --network=none a\nRUN --network=HOST b\nRUN --network=default c",
            expected: [run(["/bin/sh", "-c", "a"], network: .none), run(["/bin/sh", "-c", "b"], network: .host),
                       run(["/bin/sh", "-c", "c"], network: .default)]),
    RunCase(name: "cache mount defaults, relative target against WORKDIR, expanded options",
            text: "FROM a\nWORKDIR /root\nARG UID=185\nRUN --mount=type=cache,target=.cache/pip --mount=type=cache,id=apt,dst=/var/cache/apt,sharing=locked,mode=0700,uid=$UID,gid=0,ro pip",
            expected: [run(["/bin/sh", "-c", "pip"], env: [path, "UID=185"], workdir: "/root", mounts: [
                .cache(CacheMount(id: "/root/.cache/pip", target: "/root/.cache/pip")),
                .cache(CacheMount(id: "apt", target: "/var/cache/apt", sharing: .locked, mode: 0o700, uid: 185, readOnly: true)),
            ])]),
    RunCase(name: "secret mounts: default target, id from target, options",
            text: "FROM a\nRUN --mount=type=secret,id=aws --mount=type=secret,target=/etc/token,required=true,mode=0440,uid=185,gid=185 x",
            expected: [run(["/bin/sh", "-c", "x"], mounts: [
                .secret(SecretMount(id: "aws", target: "/run/secrets/aws")),
                .secret(SecretMount(id: "token", target: "/etc/token", required: true, mode: 0o440, uid: 185, gid: 185)),
            ])]),
    RunCase(name: "bind mounts: context by default, a stage by name, an image; rw; quoted fields",
            text: "FROM b AS build\nFROM a\nRUN --mount=target=/ctx --mount=type=bind,from=BUILD,source=out/../dist,target=/d,rw --mount=\"type=bind,from=busybox:1.36,src=/bin,dst=/x,readonly\" x",
            expected: [run(["/bin/sh", "-c", "x"], mounts: [
                .bind(BindMount(target: "/ctx")),
                .bind(BindMount(from: .stage(0), source: "/dist", target: "/d", readWrite: true)),
                .bind(BindMount(from: .image("busybox:1.36"), source: "/bin", target: "/x")),
            ])]),
    RunCase(name: "tmpfs mount with a size", text: "FROM a\nRUN --mount=type=tmpfs,target=/scratch,size=64m x",
            expected: [run(["/bin/sh", "-c", "x"], mounts: [.tmpfs(target: "/scratch", size: 64 << 20)])]),
    RunCase(name: "a heredoc alone runs its body through the shell",
            text: "FROM a\nRUN <<EOF\napt-get update\napt-get install -y tini\nEOF\nENV A=1",
            expected: [run(["/bin/sh", "-c", "apt-get update\napt-get install -y tini\n"])]),
    RunCase(name: "a heredoc with a shebang is mounted and executed",
            text: "FROM a\nRUN <<eot\n#!/usr/bin/env python3\nprint('hi')\neot",
            expected: [run(["/bin/sh", "-c", "/dev/pipes/eot"], mounts: [
                .file(target: "/dev/pipes/eot", content: "#!/usr/bin/env python3\nprint('hi')\n", mode: 0o755)])]),
    RunCase(name: "heredocs fed to a command go back to the shell, several on one line",
            text: "FROM a\nRUN cat <<A - <<'B' > /f\n$x\nA\n$y\nB",
            expected: [run(["/bin/sh", "-c", "cat <<A - <<'B' > /f\n$x\nA\n$y\nB"])]),
    RunCase(name: "<<- strips leading tabs from the body and the delimiter",
            text: "FROM a\nRUN <<-EOF\n\techo one\n\t\techo two\n\tEOF",
            expected: [run(["/bin/sh", "-c", "echo one\necho two\n"])]),
]

@Test(arguments: runCases)
func plansRun(_ test: RunCase) throws {
    #expect(try runSteps(test.text, buildArgs: test.buildArgs, base: test.base) == test.expected)
}

@Test(arguments: [
    ("RUN <<EOF\nx\nEOF", [Heredoc(name: "EOF", content: "x\n")]),
    ("RUN <<'EOF'\n$x\nEOF", [Heredoc(name: "EOF", content: "$x\n", expands: false)]),
    ("RUN <<\"EOF\"\n\n# not a comment\nEOF", [Heredoc(name: "EOF", content: "\n# not a comment\n", expands: false)]),
    ("RUN <<-END cat\n\t\tindented\n\tEND", [Heredoc(name: "END", content: "indented\n")]),
    ("RUN <<EOF\n\tkept\n EOF\nEOF", [Heredoc(name: "EOF", content: "\tkept\n EOF\n")]),
    ("RUN a <<A b <<B\n1\nA\n2\nB", [Heredoc(name: "A", content: "1\n"), Heredoc(name: "B", content: "2\n")]),
    ("RUN echo <<<word", []),
    ("RUN echo '<<EOF'", []),
])
func readsHeredocs(_ instruction: String, _ heredocs: [Heredoc]) throws {
    let dockerfile = try Dockerfile.parse("FROM a\n" + instruction + "\nENV Z=1", file: "Dockerfile")
    #expect(dockerfile.instructions.map(\.keyword) == [.from, .run, .env])
    #expect(dockerfile.instructions[1].heredocs == heredocs)
}

@Test(arguments: [
    ("RUN --network=none --mount=type=cache,target=/c make", "RUN --network=none --mount=type=cache,target=/c /bin/sh -c make"),
    ("RUN [\"make\", \"all\"]", "RUN make all"),
])
func writesRunHistory(_ instruction: String, _ createdBy: String) throws {
    let planner = BuildPlanner(dockerfile: try Dockerfile.parse("FROM a\n" + instruction, file: "Dockerfile"), buildArgs: [:], platform: amd64)
    let stage = try #require(try planner.stages().first)
    #expect(try planner.evaluate(stage, base: BaseState()).steps.map(\.createdBy) == [createdBy])
}

// MARK: - Cache key

struct CacheKeyCase: Sendable, CustomTestStringConvertible {
    let name: String
    let changed: String
    var buildArgs: [String: String] = [:]
    let same: Bool
    var testDescription: String { name }
}

private let keyBase = "FROM a\nARG V=1\nUSER 1\nWORKDIR /w\nRUN --mount=type=secret,id=s --mount=type=cache,target=/c make"

let cacheKeyCases: [CacheKeyCase] = [
    CacheKeyCase(name: "the same Dockerfile", changed: keyBase, same: true),
    CacheKeyCase(name: "a proxy build arg", changed: keyBase, buildArgs: ["HTTP_PROXY": "http://proxy:3128"], same: true),
    CacheKeyCase(name: "a build arg no ARG declares", changed: keyBase, buildArgs: ["OTHER": "x"], same: true),
    CacheKeyCase(name: "the command", changed: keyBase.replacingOccurrences(of: "make", with: "make all"), same: false),
    CacheKeyCase(name: "an ARG the RUN sees", changed: keyBase, buildArgs: ["V": "2"], same: false),
    CacheKeyCase(name: "the user", changed: keyBase.replacingOccurrences(of: "USER 1", with: "USER 2"), same: false),
    CacheKeyCase(name: "the workdir", changed: keyBase.replacingOccurrences(of: "/w", with: "/v"), same: false),
    CacheKeyCase(name: "the network", changed: keyBase.replacingOccurrences(of: "RUN ", with: "RUN --network=none "), same: false),
    CacheKeyCase(name: "a mount option", changed: keyBase.replacingOccurrences(of: "target=/c", with: "target=/c,sharing=locked"), same: false),
    CacheKeyCase(name: "the secret's id", changed: keyBase.replacingOccurrences(of: "id=s", with: "id=t"), same: false),
]

@Test(arguments: cacheKeyCases)
func cacheKeyCoversWhatTheRunSees(_ test: CacheKeyCase) throws {
    let original = try #require(try runSteps(keyBase).first).cacheKey
    let changed = try #require(try runSteps(test.changed, buildArgs: test.buildArgs).first).cacheKey
    #expect((original == changed) == test.same)
}

@Test func cacheKeyDependsOnThePlatform() throws {
    let step = try #require(try runSteps(keyBase).first)
    var arm = step
    arm.platform = "linux/arm64"
    #expect(step.cacheKey != arm.cacheKey)
    #expect(step.cacheKey.contains("\"platform\":\"linux/amd64\""))
}
