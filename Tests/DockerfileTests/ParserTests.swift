import Testing
@testable import Dockerfile

struct ParseCase: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    let expected: [Instruction]
    var testDescription: String { name }
}

private func from(_ image: String = "a", line: Int = 1) -> Instruction {
    Instruction(keyword: .from, line: line, arguments: [image])
}

let parseCases: [ParseCase] = [
    ParseCase(
        name: "continuation joins lines and keeps the start line",
        text: "FROM a\nCOPY one \\\n    two /dst/\nUSER me\n",
        expected: [from(), Instruction(keyword: .copy, line: 2, arguments: ["one", "two", "/dst/"]),
                   Instruction(keyword: .user, line: 4, arguments: ["me"])]),
    ParseCase(
        name: "comment and blank lines inside a continuation are skipped",
        text: "FROM a\nENV A=1 \\\n# a comment\n\n    B=2\nUSER me",
        expected: [from(), Instruction(keyword: .env, line: 2, arguments: ["A", "1", "B", "2"]),
                   Instruction(keyword: .user, line: 6, arguments: ["me"])]),
    ParseCase(
        name: "continuation with blanks after the escape",
        text: "FROM a\nLABEL a=1 \\  \t\n  b=2",
        expected: [from(), Instruction(keyword: .label, line: 2, arguments: ["a", "1", "b", "2"])]),
    ParseCase(
        name: "backtick escape directive changes the continuation character",
        text: "# escape=`\nFROM a\nCOPY one `\n  two /dst/\nWORKDIR C:\\dir\\\nUSER me",
        expected: [from(line: 2), Instruction(keyword: .copy, line: 3, arguments: ["one", "two", "/dst/"]),
                   Instruction(keyword: .workdir, line: 5, arguments: ["C:\\dir\\"]),
                   Instruction(keyword: .user, line: 6, arguments: ["me"])]),
    ParseCase(
        name: "syntax directive is ignored, escape directive may follow it",
        text: "# syntax=docker/dockerfile:1\n#ESCAPE = `\nFROM a\nUSER x `\n y",
        expected: [from(line: 3), Instruction(keyword: .user, line: 4, arguments: ["x  y"])]),
    ParseCase(
        name: "a directive after an ordinary comment is just a comment",
        text: "# build me\n# escape=`\nFROM a\nUSER x \\\n y",
        expected: [from(line: 3), Instruction(keyword: .user, line: 4, arguments: ["x  y"])]),
    ParseCase(
        name: "keywords are case-insensitive, AS too",
        text: "from alpine As Build\nWorkDir /x\ncopy a b",
        expected: [Instruction(keyword: .from, line: 1, arguments: ["alpine", "As", "Build"]),
                   Instruction(keyword: .workdir, line: 2, arguments: ["/x"]),
                   Instruction(keyword: .copy, line: 3, arguments: ["a", "b"])]),
    ParseCase(
        name: "exec form and shell form",
        text: #"FROM a"# + "\n" + #"CMD ["java", "-jar", "x.jar"]"# + "\n" + "ENTRYPOINT exec  java $OPTS\n"
            + #"CMD [not, json]"# + "\n" + #"COPY ["a b", "/x/"]"# + "\n" + "VOLUME /a /b\n" + #"VOLUME ["/c"]"#,
        expected: [from(),
                   Instruction(keyword: .cmd, line: 2, arguments: ["java", "-jar", "x.jar"], isJSON: true),
                   Instruction(keyword: .entrypoint, line: 3, arguments: ["exec  java $OPTS"]),
                   Instruction(keyword: .cmd, line: 4, arguments: ["[not, json]"]),
                   Instruction(keyword: .copy, line: 5, arguments: ["a b", "/x/"], isJSON: true),
                   Instruction(keyword: .volume, line: 6, arguments: ["/a", "/b"]),
                   Instruction(keyword: .volume, line: 7, arguments: ["/c"], isJSON: true)]),
    ParseCase(
        name: "flags with quotes, booleans and repeats",
        text: "FROM --platform=$BUILDPLATFORM golang AS b\n"
            + #"COPY --from=b --chown="app user:grp" --link a /x/"# + "\n"
            + "ADD --exclude=*.md --exclude=*.txt --link=false src /x/\n"
            + "COPY -- --odd /x/",
        expected: [Instruction(keyword: .from, line: 1, flags: [Flag(name: "platform", value: "$BUILDPLATFORM")], arguments: ["golang", "AS", "b"]),
                   Instruction(keyword: .copy, line: 2, flags: [Flag(name: "from", value: "b"), Flag(name: "chown", value: "app user:grp"), Flag(name: "link", value: nil)], arguments: ["a", "/x/"]),
                   Instruction(keyword: .add, line: 3, flags: [Flag(name: "exclude", value: "*.md"), Flag(name: "exclude", value: "*.txt"), Flag(name: "link", value: "false")], arguments: ["src", "/x/"]),
                   Instruction(keyword: .copy, line: 4, arguments: ["--odd", "/x/"])]),
    ParseCase(
        name: "ENV and LABEL keep quotes for expansion; legacy form takes the rest of the line",
        text: "FROM a\n" + #"ENV A=1 B="x y" C=a\ b"# + "\nENV LEGACY some  value\n" + #"LABEL "k"='v w'"#,
        expected: [from(),
                   Instruction(keyword: .env, line: 2, arguments: ["A", "1", "B", "\"x y\"", "C", "a\\ b"]),
                   Instruction(keyword: .env, line: 3, arguments: ["LEGACY", "some  value"]),
                   Instruction(keyword: .label, line: 4, arguments: ["\"k\"", "'v w'"])]),
    ParseCase(
        name: "several ARGs on one line, before and after FROM",
        text: "ARG TAG=17\nFROM a\n" + #"ARG a b=2 c="x y""#,
        expected: [Instruction(keyword: .arg, line: 1, arguments: ["TAG=17"]), from(line: 2),
                   Instruction(keyword: .arg, line: 3, arguments: ["a", "b=2", "c=\"x y\""])]),
    ParseCase(
        name: "HEALTHCHECK forms",
        text: "FROM a\nHEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/\n"
            + #"healthcheck CMD ["curl", "x"]"# + "\nHEALTHCHECK NONE",
        expected: [from(),
                   Instruction(keyword: .healthcheck, line: 2, flags: [Flag(name: "interval", value: "5s"), Flag(name: "retries", value: "3")], arguments: ["CMD", "curl -f http://localhost/"]),
                   Instruction(keyword: .healthcheck, line: 3, arguments: ["CMD", "curl", "x"], isJSON: true),
                   Instruction(keyword: .healthcheck, line: 4, arguments: ["NONE"])]),
    ParseCase(
        name: "CRLF line endings, byte order mark and indentation",
        text: "\u{FEFF}FROM a\r\n    USER b\r\n\r\n\tMAINTAINER Jane Doe <jane@example.com>\r\n",
        expected: [from(), Instruction(keyword: .user, line: 2, arguments: ["b"]),
                   Instruction(keyword: .maintainer, line: 4, arguments: ["Jane Doe <jane@example.com>"])]),
    ParseCase(
        name: "a continuation still open at the end of the file ends the instruction (Docker)",
        text: "FROM a\nEXPOSE 80 \\",
        expected: [from(), Instruction(keyword: .expose, line: 2, arguments: ["80"])]),
]

@Test(arguments: parseCases)
func parsesInstructions(_ test: ParseCase) throws {
    let dockerfile = try Dockerfile.parse(test.text, file: "Dockerfile")
    #expect(dockerfile.instructions == test.expected)
}

@Test(arguments: [("FROM a", Character("\\")), ("# escape=`\nFROM a", Character("`")), ("# escape=\\\nFROM a", Character("\\"))])
func readsEscapeDirective(_ text: String, _ escape: Character) throws {
    #expect(try Dockerfile.parse(text, file: "Dockerfile").escape == escape)
}

@Test(arguments: [
    ("COPPY", "COPY"), ("ENTRYPIONT", "ENTRYPOINT"), ("worKdri", "WORKDIR"), ("LABLE", "LABEL"), ("EXPORT", "EXPOSE"),
])
func suggestsClosestKeyword(_ typo: String, _ suggestion: String) {
    #expect(Suggestion.closest(to: typo, among: Keyword.allCases.map(\.rawValue)) == suggestion)
}

@Test(arguments: [("chwon", "chown", 1), ("copy", "COPY", 0), ("kitten", "sitting", 3), ("", "abc", 3)])
func measuresEditDistance(_ a: String, _ b: String, _ distance: Int) {
    #expect(Suggestion.distance(Array(a.lowercased()), Array(b.lowercased())) == distance)
}
