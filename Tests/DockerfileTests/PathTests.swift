import Testing
@testable import Dockerfile

struct MatchCase: Sendable, CustomTestStringConvertible {
    let pattern: String
    let path: String
    let matches: Bool
    init(_ pattern: String, _ path: String, _ matches: Bool) {
        self.pattern = pattern
        self.path = path
        self.matches = matches
    }
    var testDescription: String { "\(pattern) ~ \(path): \(matches)" }
}

/// Cases in the spirit of Go's filepath.Match tests.
let pathPatternCases: [MatchCase] = [
    MatchCase("abc", "abc", true),
    MatchCase("*", "abc", true),
    MatchCase("*c", "abc", true),
    MatchCase("a*", "a", true),
    MatchCase("a*", "abc", true),
    MatchCase("a*", "ab/c", false),
    MatchCase("a*/b", "abc/b", true),
    MatchCase("a*/b", "a/c/b", false),
    MatchCase("a*b*c*d*e*/f", "axbxcxdxe/f", true),
    MatchCase("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
    MatchCase("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
    MatchCase("a*b?c*x", "abxbbxdbxebxczzx", true),
    MatchCase("a*b?c*x", "abxbbxdbxebxczzy", false),
    MatchCase("ab[c]", "abc", true),
    MatchCase("ab[b-d]", "abc", true),
    MatchCase("ab[e-g]", "abc", false),
    MatchCase("ab[^c]", "abc", false),
    MatchCase("ab[^b-d]", "abc", false),
    MatchCase("ab[^e-g]", "abc", true),
    MatchCase("a\\*b", "a*b", true),
    MatchCase("a\\*b", "ab", false),
    MatchCase("a?b", "a☺b", true),
    MatchCase("a[^a]b", "a☺b", true),
    MatchCase("a???b", "a☺b", false),
    MatchCase("[a-ζ]*", "α", true),
    MatchCase("*[a-ζ]", "A", false),
    MatchCase("a?b", "a/b", false),
    MatchCase("a*b", "a/b", false),
    MatchCase("a[/]b", "a/b", true),
    MatchCase("[\\]a]", "]", true),
    MatchCase("[\\-]", "-", true),
    MatchCase("[x\\-]", "x", true),
    MatchCase("[x\\-]", "-", true),
    MatchCase("[x\\-]", "z", false),
    MatchCase("[\\-x]", "-", true),
    MatchCase("*x", "xxx", true),
    MatchCase("RELEAS[E]", "RELEASE", true),
    MatchCase("RELEAS[E]", "RELEAS", false),
    MatchCase("jars/*.jar", "jars/spark-core.jar", true),
    MatchCase("jars/*.jar", "jars/sub/x.jar", false),
    // Malformed patterns match nothing.
    MatchCase("[]a]", "]", false),
    MatchCase("[-]", "-", false),
    MatchCase("[x-]", "x", false),
    MatchCase("[-x]", "x", false),
    MatchCase("[a-b-c]", "a", false),
    MatchCase("\\", "\\", false),
    MatchCase("[", "[", false),
    MatchCase("[^", "^", false),
    MatchCase("a[", "a", false),
    MatchCase("*[", "x[", false),
]

@Test(arguments: pathPatternCases)
func matchesPathPattern(_ test: MatchCase) {
    #expect(PathPattern.matches(test.pattern, test.path) == test.matches)
}

@Test(arguments: [("a*b", true), ("a?", true), ("[x]", true), ("a\\b", true), ("plain/path-1.0_x.txt", false), ("", false)])
func detectsGlobMetacharacters(_ text: String, _ hasMeta: Bool) {
    #expect(PathPattern.hasMeta(text) == hasMeta)
}

private let ignoreFile = """
    # comment lines are skipped
    *.md
    !README.md
    target
    /build/
    **/*.class
    docs/**
    !docs/keep.txt
    ./tmp
    \t spaced.txt  \t
     #not-a-comment
    sub/**/cache
    """

@Test(arguments: [
    ("notes.md", true), ("README.md", false), ("sub/notes.md", false),
    ("target", true), ("target/spark.jar", true), ("src/target", false),
    ("build", true), ("build/out/x", true), ("rebuild", false),
    ("A.class", true), ("a/b/C.class", true), ("a/b/C.classic", false),
    ("docs/guide.html", true), ("docs/keep.txt", false), ("docs", false),
    ("tmp/x", true), ("./tmp", true), ("/tmp", true),
    ("spaced.txt", true), ("#not-a-comment", true), ("# comment lines are skipped", false),
    ("sub/cache", true), ("sub/a/b/cache/f", true), ("other/cache", false),
    ("src/Main.scala", false),
])
func appliesDockerIgnore(_ path: String, _ excluded: Bool) throws {
    #expect(try DockerIgnore(ignoreFile).excludes(path) == excluded)
}

@Test(arguments: [
    ("*\n!src\n", "src/a.swift", false),
    ("*\n!src\n", "other", true),
    ("target\n!target/keep\n", "target/keep", false),
    ("target\n!target/keep\n", "target/drop", true),
    ("!keep\n*\n", "keep", true),
    ("\u{FEFF}*.log\r\n!keep.log\r\n", "a.log", true),
    ("\u{FEFF}*.log\r\n!keep.log\r\n", "keep.log", false),
    ("", "anything", false),
    ("!\n", "x", false),
    ("**\n!jars/*.jar\n", "jars/a.jar", false),
    ("**\n!jars/*.jar\n", "bin/spark-submit", true),
])
func appliesExceptionsInOrder(_ text: String, _ path: String, _ excluded: Bool) throws {
    #expect(try DockerIgnore(text).excludes(path) == excluded)
}

/// Docker refuses a malformed pattern; skipping it would silently include what it meant to exclude.
@Test(arguments: [
    ("a[\n", 1), ("ok\n# fine\nsecrets/[a-\n", 3), ("x\\\n", 1), ("\n\n!keep[\n", 3), ("[]\n", 1),
])
func malformedIgnorePatternIsAnErrorWithItsLine(_ text: String, _ line: Int) {
    #expect {
        _ = try DockerIgnore(text, file: "ctx/.dockerignore")
    } throws: { error in
        let error = error as? DockerfileError
        return error?.file == "ctx/.dockerignore" && error?.line == line && error?.message.contains("malformed pattern") == true
    }
}

@Test(arguments: [
    ("30s", 30_000_000_000), ("1m30s", 90_000_000_000), ("1.5h", 5_400_000_000_000), ("500ms", 500_000_000),
    ("0", 0), ("1h2m3s4ms5us6ns", 3_723_004_005_006), (".5s", 500_000_000), ("1µs", 1_000), ("+2s", 2_000_000_000),
    ("-1s", -1_000_000_000),
] as [(String, Int64)])
func parsesGoDurations(_ text: String, _ nanoseconds: Int64) {
    #expect(GoDuration.nanoseconds(text) == nanoseconds)
}

@Test(arguments: ["", "5", "5x", "s", ".s", "1.2.3s", "--1s", "1s5", "99999999999h"])
func rejectsBadGoDurations(_ text: String) {
    #expect(GoDuration.nanoseconds(text) == nil)
}

@Test(arguments: [
    ("/opt/../x/./y/", "/x/y"), ("a/../..", ".."), ("", "."), ("/..", "/"), ("a//b", "a/b"), ("./", "."), ("/", "/"),
])
func cleansPaths(_ path: String, _ cleaned: String) {
    #expect(PathSyntax.clean(path) == cleaned)
}

@Test(arguments: [
    ("sub", "/opt", "/opt/sub"), ("../x", "/opt/a", "/opt/x"), ("/abs/", "/w", "/abs"), (".", "/w", "/w"), ("", "/w", "/w"),
])
func resolvesAgainstDirectory(_ path: String, _ directory: String, _ absolute: String) {
    #expect(PathSyntax.absolute(path, in: directory) == absolute)
}
