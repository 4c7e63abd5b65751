import Testing
import Dockerfile

struct MalformedCase: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    let line: Int
    let message: String
    var hint: String?
    var testDescription: String { name }
}

private let fromHint = "write FROM image [AS name]"
private let copyArity = "COPY requires at least two arguments, but only one was provided. Destination could not be determined."

let malformedCases: [MalformedCase] = [
    MalformedCase(name: "RUN without a command", text: "FROM a\nRUN", line: 2, message: "RUN requires at least one argument"),
    MalformedCase(name: "RUN with only flags", text: "FROM a\nrun --network=none", line: 2, message: "RUN requires at least one argument"),
    MalformedCase(name: "RUN unknown flag", text: "FROM a\nRUN --netwrok=none true", line: 2, message: "unknown flag: --netwrok", hint: "did you mean --network?"),
    MalformedCase(name: "RUN --security", text: "FROM a\nRUN --security=insecure true", line: 2, message: "RUN --security is not supported", hint: "RUN runs without extra privileges here; drop --security"),
    MalformedCase(name: "RUN --network bridge", text: "FROM a\nRUN --network=bridge true", line: 2, message: "RUN --network: unknown value \"bridge\"", hint: "use --network=host, none or default"),
    MalformedCase(name: "RUN --network twice", text: "FROM a\nRUN --network=host --network=none true", line: 2, message: "duplicate flag specified: --network"),
    MalformedCase(name: "RUN --mount without value", text: "FROM a\nRUN --mount true", line: 2, message: "missing a value on flag: --mount"),
    MalformedCase(name: "mount type ssh", text: "FROM a\nRUN --mount=type=ssh true", line: 2, message: "--mount: unsupported mount type \"ssh\"", hint: "SSH agent forwarding is not supported; fetch private sources before the build"),
    MalformedCase(name: "mount type unknown", text: "FROM a\nRUN --mount=type=volume,target=/v true", line: 2, message: "--mount: unsupported mount type \"volume\"", hint: "use type=bind, cache, secret or tmpfs"),
    MalformedCase(name: "mount option misspelt", text: "FROM a\nRUN --mount=type=cache,target=/c,sharnig=locked true", line: 2, message: "--mount: unknown option \"sharnig\" for type=cache", hint: "did you mean sharing? type=cache takes gid, id, mode, readonly, sharing, target, uid"),
    MalformedCase(name: "mount option of another type", text: "FROM a\nRUN --mount=type=tmpfs,target=/t,id=x true", line: 2, message: "--mount: unknown option \"id\" for type=tmpfs", hint: "type=tmpfs takes size, target"),
    MalformedCase(name: "mount option twice", text: "FROM a\nRUN --mount=type=cache,target=/a,dst=/b true", line: 2, message: "--mount: dst given twice in \"type=cache,target=/a,dst=/b\""),
    MalformedCase(name: "cache without target", text: "FROM a\nRUN --mount=type=cache,id=pip true", line: 2, message: "--mount type=cache needs a target", hint: "add target=/path/in/the/container"),
    MalformedCase(name: "bind over /", text: "FROM a\nRUN --mount=type=bind,target=/ true", line: 2, message: "--mount: cannot mount over /", hint: "choose a directory below /"),
    MalformedCase(name: "bad sharing", text: "FROM a\nRUN --mount=type=cache,target=/c,sharing=global true", line: 2, message: "--mount: invalid sharing \"global\"", hint: "use sharing=shared, private or locked"),
    MalformedCase(name: "symbolic mount mode", text: "FROM a\nRUN --mount=type=cache,target=/c,mode=u+rw true", line: 2, message: "--mount: invalid mode \"u+rw\"", hint: "use an octal mode such as 0755"),
    MalformedCase(name: "negative uid", text: "FROM a\nRUN --mount=type=secret,id=s,uid=-1 true", line: 2, message: "--mount: invalid uid \"-1\"", hint: "use a number, such as 185"),
    MalformedCase(name: "required not boolean", text: "FROM a\nRUN --mount=type=secret,id=s,required=yes true", line: 2, message: "--mount: required must be true or false, not \"yes\""),
    MalformedCase(name: "secret without id or target", text: "FROM a\nRUN --mount=type=secret true", line: 2, message: "--mount type=secret needs an id", hint: "add id=NAME and pass --secret id=NAME,src=FILE to the build"),
    MalformedCase(name: "empty id", text: "FROM a\nRUN --mount=type=secret,id= true", line: 2, message: "--mount: id needs a value"),
    MalformedCase(name: "tmpfs bad size", text: "FROM a\nRUN --mount=type=tmpfs,target=/t,size=lots true", line: 2, message: "--mount: invalid size \"lots\"", hint: "use bytes or a size such as 64m"),
    MalformedCase(name: "two mounts on one target", text: "FROM a\nRUN --mount=type=tmpfs,target=/t --mount=type=cache,target=/t true", line: 2, message: "--mount: two mounts on /t", hint: "give each mount its own target"),
    MalformedCase(name: "bind from its own stage", text: "FROM a AS me\nRUN --mount=from=me,target=/m true", line: 2, message: "invalid from flag value me: refers to current build stage"),
    MalformedCase(name: "unterminated heredoc", text: "FROM a\nRUN <<EOF\necho hi\nEOFX\n", line: 2, message: "unterminated heredoc <<EOF", hint: "end the heredoc with a line that holds only EOF"),
    MalformedCase(name: "RUN in a heredoc body is not an instruction", text: "FROM a\nRUN <<EOF\nFROBNICATE\nEOF\nCOPPY a /b", line: 5, message: "unknown instruction: COPPY", hint: "did you mean COPY?"),
    MalformedCase(name: "unknown instruction with suggestion", text: "FROM a\nCOPPY a /b", line: 2, message: "unknown instruction: COPPY", hint: "did you mean COPY?"),
    MalformedCase(name: "unknown instruction without suggestion", text: "FROM a\nFROBNICATE x", line: 2, message: "unknown instruction: FROBNICATE"),
    MalformedCase(name: "instruction before FROM", text: "ARG A=1\nENV A=1\nFROM a", line: 2, message: "ENV before the first FROM", hint: "only ARG may come before the first FROM"),
    MalformedCase(name: "empty Dockerfile", text: "", line: 1, message: "file with no instructions", hint: "a Dockerfile needs at least one FROM line"),
    MalformedCase(name: "only comments and blank lines", text: "# nothing\n\n   \n", line: 1, message: "file with no instructions", hint: "a Dockerfile needs at least one FROM line"),
    MalformedCase(name: "only ARG", text: "\nARG A=1", line: 2, message: "no FROM instruction", hint: "a Dockerfile needs at least one FROM line"),
    MalformedCase(name: "FROM without arguments", text: "FROM", line: 1, message: "FROM requires either one or three arguments", hint: fromHint),
    MalformedCase(name: "FROM with an extra argument", text: "FROM a b", line: 1, message: "FROM requires either one or three arguments", hint: fromHint),
    MalformedCase(name: "AS without a name", text: "FROM a AS", line: 1, message: "FROM requires either one or three arguments", hint: fromHint),
    MalformedCase(name: "bad stage name", text: "FROM a AS 1st", line: 1, message: "invalid name for build stage: \"1st\", name can't start with a number or contain symbols"),
    MalformedCase(name: "duplicate stage name, case-insensitive", text: "FROM a AS x\nFROM b AS X", line: 2, message: "duplicate stage name \"x\""),
    MalformedCase(name: "base name expands to nothing", text: "ARG IMG\nFROM ${IMG}", line: 2, message: "base name (${IMG}) should not be blank"),
    MalformedCase(name: "unterminated ${ in FROM", text: "FROM img:${TAG", line: 1, message: "syntax error: missing '}' in \"${TAG\""),
    MalformedCase(name: "COPY with one argument", text: "FROM a\nCOPY jars", line: 2, message: copyArity),
    MalformedCase(name: "continuation open at end of file cuts the instruction", text: "FROM a\nCOPY jars \\", line: 2, message: copyArity),
    MalformedCase(name: "several sources without trailing slash", text: "FROM a\nCOPY a b /dst", line: 2, message: "When using COPY with more than one source file, the destination must be a directory and end with a /", hint: "add a trailing / to /dst"),
    MalformedCase(name: "unknown COPY flag", text: "FROM a\nCOPY --chwon=1 a /b", line: 2, message: "unknown flag: --chwon", hint: "did you mean --chown?"),
    MalformedCase(name: "flag on an instruction without flags", text: "FROM a\nENV --x=1 A=b", line: 2, message: "unknown flag: --x"),
    MalformedCase(name: "duplicate flag", text: "FROM a\nCOPY --from=a --from=b x /y", line: 2, message: "duplicate flag specified: --from"),
    MalformedCase(name: "string flag without value", text: "FROM a\nCOPY --chmod x /y", line: 2, message: "missing a value on flag: --chmod"),
    MalformedCase(name: "boolean flag with a bad value", text: "FROM a\nCOPY --link=yes x /y", line: 2, message: "expecting boolean value for flag --link, not: yes"),
    MalformedCase(name: "symbolic --chmod", text: "FROM a\nCOPY --chmod=u+x a /b", line: 2, message: "invalid --chmod value \"u+x\"", hint: "use an octal mode between 0 and 7777, such as 0755"),
    MalformedCase(name: "--chmod out of range", text: "FROM a\nCOPY --chmod=17777 a /b", line: 2, message: "invalid --chmod value \"17777\"", hint: "use an octal mode between 0 and 7777, such as 0755"),
    MalformedCase(name: "empty --chown", text: "FROM a\nCOPY --chown= a /b", line: 2, message: "invalid --chown value \"\"", hint: "use --chown=user or --chown=user:group, by name or number"),
    MalformedCase(name: "--chown that expands to nothing", text: "FROM a\nCOPY --chown=${UID}:0 a /b", line: 2, message: "invalid --chown value \":0\"", hint: "use --chown=user or --chown=user:group, by name or number"),
    MalformedCase(name: "COPY --from its own stage", text: "FROM a AS one\nCOPY --from=ONE x /y", line: 2, message: "invalid from flag value ONE: refers to current build stage"),
    MalformedCase(name: "COPY --from its own index", text: "FROM a\nFROM b\nCOPY --from=1 x /y", line: 3, message: "invalid from flag value 1: refers to current build stage"),
    MalformedCase(name: "COPY --from a later stage", text: "FROM a\nCOPY --from=later x /y\nFROM b AS later", line: 2, message: "invalid from flag value later: refers to a later build stage", hint: "a stage can only copy from the stages before it"),
    MalformedCase(name: "ADD --checksum", text: "FROM a\nADD --checksum=sha256:abc https://example.com/x.tgz /x/", line: 2, message: "ADD --checksum is not supported", hint: "download and verify the file before the build, then COPY it from the build context"),
    MalformedCase(name: "ADD --keep-git-dir", text: "FROM a\nADD --keep-git-dir=true https://github.com/x/y.git /src", line: 2, message: "ADD --keep-git-dir is not supported", hint: "clone the repository before the build, then COPY it from the build context"),
    MalformedCase(name: "heredoc COPY", text: "FROM a\nCOPY <<EOF /etc/motd\nhello\nEOF", line: 2, message: "heredocs are not supported in COPY", hint: "put the content in a file in the build context and COPY that file"),
    MalformedCase(name: "ENV without value", text: "FROM a\nENV JAVA_HOME", line: 2, message: "ENV must have two arguments", hint: "write ENV name=value"),
    MalformedCase(name: "ENV =x", text: "FROM a\nENV =x", line: 2, message: "ENV names can not be blank"),
    MalformedCase(name: "ENV without arguments", text: "FROM a\nENV", line: 2, message: "ENV requires at least one argument"),
    MalformedCase(name: "LABEL pair without =", text: "FROM a\nLABEL a=1 b", line: 2, message: "Syntax error - can't find = in \"b\". Must be of the form: name=value"),
    MalformedCase(name: "LABEL with a single word", text: "FROM a\nLABEL foo", line: 2, message: "LABEL must have two arguments", hint: "write LABEL name=value"),
    MalformedCase(name: "ARG name starting with a digit", text: "FROM a\nARG 1x=2", line: 2, message: "invalid ARG name \"1x\"", hint: "ARG names are letters, digits and underscores and do not start with a digit"),
    MalformedCase(name: "ARG name with a dash", text: "ARG spark-uid", line: 1, message: "invalid ARG name \"spark-uid\"", hint: "ARG names are letters, digits and underscores and do not start with a digit"),
    MalformedCase(name: "unterminated ${", text: "FROM a\nENV A=${B", line: 2, message: "syntax error: missing '}' in \"${B\""),
    MalformedCase(name: "unsupported ${A:?x}", text: "FROM a\nWORKDIR ${A:?x}", line: 2, message: "unsupported modifier \":?\" in \"${A:?x}\"", hint: "supported forms are $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:+alternative} and ${VAR+alternative}"),
    MalformedCase(name: "EXPOSE bad port", text: "FROM a\nEXPOSE 8080 80a", line: 2, message: "EXPOSE: invalid port \"80a\""),
    MalformedCase(name: "EXPOSE reversed range", text: "FROM a\nEXPOSE 90-80/udp", line: 2, message: "EXPOSE: invalid port \"90-80\""),
    MalformedCase(name: "EXPOSE port out of range", text: "FROM a\nEXPOSE 70000", line: 2, message: "EXPOSE: invalid port \"70000\""),
    MalformedCase(name: "EXPOSE bad protocol", text: "FROM a\nEXPOSE 80/http", line: 2, message: "EXPOSE: invalid protocol \"http\" in \"80/http\"", hint: "use tcp, udp or sctp"),
    MalformedCase(name: "WORKDIR without argument", text: "FROM a\nWORKDIR", line: 2, message: "WORKDIR requires exactly one argument"),
    MalformedCase(name: "USER without argument", text: "FROM a\nUSER   ", line: 2, message: "USER requires exactly one argument"),
    MalformedCase(name: "VOLUME with an empty path", text: "FROM a\nVOLUME [\"\"]", line: 2, message: "VOLUME specified can not be an empty string"),
    MalformedCase(name: "SHELL not JSON", text: "FROM a\nSHELL /bin/bash -c", line: 2, message: "SHELL requires the arguments to be in JSON form", hint: "for example SHELL [\"/bin/bash\", \"-c\"]"),
    MalformedCase(name: "JSON array of non-strings", text: "FROM a\nCMD [\"sleep\", 1]", line: 2, message: "when using JSON array syntax, arrays must be comprised of strings only"),
    MalformedCase(name: "HEALTHCHECK bad duration", text: "FROM a\nHEALTHCHECK --interval=5x CMD true", line: 2, message: "HEALTHCHECK --interval: invalid duration \"5x\"", hint: "use durations such as 30s, 1m30s or 500ms"),
    MalformedCase(name: "HEALTHCHECK duration without unit", text: "FROM a\nHEALTHCHECK --timeout=30 CMD true", line: 2, message: "HEALTHCHECK --timeout: invalid duration \"30\"", hint: "use durations such as 30s, 1m30s or 500ms"),
    MalformedCase(name: "HEALTHCHECK duration below 1ms", text: "FROM a\nHEALTHCHECK --start-period=10us CMD true", line: 2, message: "HEALTHCHECK --start-period cannot be less than 1ms"),
    MalformedCase(name: "HEALTHCHECK negative retries", text: "FROM a\nHEALTHCHECK --retries=-1 CMD true", line: 2, message: "--retries cannot be negative (-1)"),
    MalformedCase(name: "HEALTHCHECK without CMD", text: "FROM a\nHEALTHCHECK --interval=5s", line: 2, message: "HEALTHCHECK requires at least one argument", hint: "write HEALTHCHECK NONE or HEALTHCHECK [options] CMD command"),
    MalformedCase(name: "HEALTHCHECK CMD without command", text: "FROM a\nHEALTHCHECK CMD", line: 2, message: "missing command after HEALTHCHECK CMD"),
    MalformedCase(name: "HEALTHCHECK unknown type", text: "FROM a\nHEALTHCHECK curl -f http://x/", line: 2, message: "Unknown type \"CURL\" in HEALTHCHECK (try CMD)"),
    MalformedCase(name: "HEALTHCHECK NONE with arguments", text: "FROM a\nHEALTHCHECK NONE now", line: 2, message: "HEALTHCHECK NONE takes no arguments"),
    MalformedCase(name: "bad escape directive", text: "# escape=x\nFROM a", line: 1, message: "invalid escape token 'x' does not match ` or \\"),
    MalformedCase(name: "escape directive given twice", text: "# escape=`\n# escape=\\\nFROM a", line: 2, message: "only one escape parser directive can be used"),
    MalformedCase(name: "ONBUILD", text: "FROM a\nONBUILD COPY a /b", line: 2, message: "ONBUILD is not supported", hint: "write the instructions into the Dockerfile that builds on this image"),
]

/// Parses, plans every stage, and returns the first error on the way.
private func firstError(_ text: String) -> DockerfileError? {
    do {
        let planner = BuildPlanner(
            dockerfile: try Dockerfile.parse(text, file: "Dockerfile"), buildArgs: [:],
            platform: TargetPlatform(architecture: "amd64"))
        for stage in try planner.stages() { _ = try planner.evaluate(stage, base: BaseState()) }
        return nil
    } catch {
        return error
    }
}

@Test(arguments: malformedCases)
func rejectsMalformedDockerfile(_ test: MalformedCase) {
    let expected = DockerfileError(file: "Dockerfile", line: test.line, message: test.message, hint: test.hint)
    #expect(firstError(test.text) == expected)
}

@Test func errorDescriptionNamesFileAndLineAndHint() {
    let plain = DockerfileError(file: "docker/Dockerfile", line: 3, message: "ENV names can not be blank")
    #expect(plain.description == "docker/Dockerfile:3: ENV names can not be blank")
    let hinted = DockerfileError(file: "Dockerfile", line: 7, message: "unknown instruction: COPPY", hint: "did you mean COPY?")
    #expect(hinted.description == "Dockerfile:7: unknown instruction: COPPY\n  hint: did you mean COPY?")
}
