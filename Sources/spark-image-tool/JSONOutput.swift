import ArgumentParser
import Foundation

/// `--json`: one JSON document on stdout (schema: docs/json.md). While the command runs, what
/// it would print on stdout (progress, human lines) goes to stderr, so nothing can interleave
/// with the document.
struct JSONOutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON document on stdout (docs/json.md); progress and messages go to stderr.")
    var json = false

    /// Call before the command prints anything: nil without --json.
    func begin() -> JSONDocument? { json ? JSONDocument() : nil }
}

/// Owns a duplicate of the original stdout; file descriptor 1 points at stderr meanwhile.
final class JSONDocument {
    private let output: FileHandle

    init() {
        fflush(nil)
        output = FileHandle(fileDescriptor: dup(STDOUT_FILENO), closeOnDealloc: true)
        dup2(STDERR_FILENO, STDOUT_FILENO)
    }

    func write(_ value: some Encodable) throws {
        fflush(nil)
        output.write(try Self.encode(value) + Data("\n".utf8))
    }

    /// Sorted keys, so documents diff cleanly and key order is part of nothing.
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
