import Testing
@testable import Dockerfile

struct ExpansionCase: Sendable, CustomTestStringConvertible {
    let word: String
    let expected: String
    var escape: Character = "\\"
    var testDescription: String { "\(word) → \(expected)" }
}

/// A is set, EMPTY is set but empty, UNSET is not set.
let variables = ["A": "x", "EMPTY": "", "B": "y", "LIST": "80  443/udp"]

let expansionCases: [ExpansionCase] = [
    ExpansionCase(word: "$A", expected: "x"),
    ExpansionCase(word: "${A}b", expected: "xb"),
    ExpansionCase(word: "$A_b", expected: ""),
    ExpansionCase(word: "pre-$A-post", expected: "pre-x-post"),
    ExpansionCase(word: "$UNSET", expected: ""),
    ExpansionCase(word: "${UNSET:-def}", expected: "def"),
    ExpansionCase(word: "${EMPTY:-def}", expected: "def"),
    ExpansionCase(word: "${A:-def}", expected: "x"),
    ExpansionCase(word: "${UNSET-def}", expected: "def"),
    ExpansionCase(word: "${EMPTY-def}", expected: ""),
    ExpansionCase(word: "${A:+alt}", expected: "alt"),
    ExpansionCase(word: "${EMPTY:+alt}", expected: ""),
    ExpansionCase(word: "${UNSET:+alt}", expected: ""),
    ExpansionCase(word: "${EMPTY+alt}", expected: "alt"),
    ExpansionCase(word: "${UNSET+alt}", expected: ""),
    ExpansionCase(word: "${UNSET:-${B}z}", expected: "yz"),
    ExpansionCase(word: "${UNSET:-'a b'}", expected: "a b"),
    ExpansionCase(word: "${UNSET:-a\\}b}", expected: "a}b"),
    ExpansionCase(word: "\\$A", expected: "$A"),
    ExpansionCase(word: "'$A'", expected: "$A"),
    ExpansionCase(word: "\"$A\"", expected: "x"),
    ExpansionCase(word: "\"'$A'\"", expected: "'x'"),
    ExpansionCase(word: "\"a\\\"b\\$A\"", expected: "a\"b$A"),
    ExpansionCase(word: "\"a\\nb\"", expected: "a\\nb"),
    ExpansionCase(word: "a\\ b", expected: "a b"),
    ExpansionCase(word: "a\\", expected: "a"),
    ExpansionCase(word: "'it''s'", expected: "its"),
    ExpansionCase(word: "$", expected: "$"),
    ExpansionCase(word: "100$%", expected: "100$%"),
    ExpansionCase(word: "$1$A", expected: "x"),
    ExpansionCase(word: "`$A", expected: "$A", escape: "`"),
    ExpansionCase(word: "C:\\dir\\$A", expected: "C:\\dir\\x", escape: "`"),
]

@Test(arguments: expansionCases)
func expandsWord(_ test: ExpansionCase) throws {
    let word = ShellWord(escape: test.escape, variables: variables)
    #expect(try word.expand(test.word) == test.expected)
}

@Test(arguments: [
    ("$LIST", ["80", "443/udp"]),
    ("\"$LIST\"", ["80  443/udp"]),
    ("a\\ b c", ["a b", "c"]),
    ("'' x", ["x"]),
    ("  $A  ${B}1 ", ["x", "y1"]),
])
func splitsWords(_ text: String, _ expected: [String]) throws {
    #expect(try ShellWord(escape: "\\", variables: variables).split(text) == expected)
}

private let supportedForms = "supported forms are $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:+alternative} and ${VAR+alternative}"

@Test(arguments: [
    ("${A", Problem("syntax error: missing '}' in \"${A\"")),
    ("x${A:-def", Problem("syntax error: missing '}' in \"${A:-def\"")),
    ("${A:", Problem("syntax error: missing '}' in \"${A:\"")),
    ("${}", Problem("syntax error: bad substitution \"${}\"")),
    ("${:-x}", Problem("syntax error: bad substitution \"${:-x}\"")),
    ("${A:?err}", Problem("unsupported modifier \":?\" in \"${A:?err}\"", hint: supportedForms)),
    ("${A#prefix}", Problem("unsupported modifier \"#\" in \"${A#prefix}\"", hint: supportedForms)),
    ("'open", Problem("missing closing single quote")),
    ("\"open", Problem("missing closing double quote")),
])
func rejectsBadSubstitution(_ text: String, _ expected: Problem) {
    #expect(throws: expected) { try ShellWord(escape: "\\", variables: variables).expand(text) }
}
