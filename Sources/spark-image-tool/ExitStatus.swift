import ArgumentParser
import Foundation
import Support

/// The exit statuses scripts can rely on (README, "Exit status"; `--help`), chosen here only.
enum ExitStatus {
    static let ok: Int32 = 0
    static let userError: Int32 = 1
    static let usage: Int32 = 2
    static let unreachable: Int32 = 3
    static let verificationFailed: Int32 = 4

    static let summary = "Exit status: 0 ok, 1 user error, 2 usage, 3 registry or daemon unreachable, 4 verification failure."

    static func of(_ kind: FailureKind) -> Int32 {
        switch kind {
        case .userError: userError
        case .unreachable: unreachable
        case .verification: verificationFailed
        }
    }

    /// Prints `error` to stderr and exits with its status.
    static func exit(with error: any Error) -> Never {
        if let error = error as? any HintedError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            Foundation.exit(of(error.failureKind))
        }
        // swift-argument-parser gives usage errors EX_USAGE (64); we promise 2, as getopt tools do.
        if Root.exitCode(for: error) == .validationFailure {
            FileHandle.standardError.write(Data("\(Root.fullMessage(for: error))\n".utf8))
            Foundation.exit(usage)
        }
        Root.exit(withError: error)
    }
}

/// Errors of the command line itself (an output file it cannot write, a conflicting request).
enum CommandLineFailure {}
typealias CommandLineError = ModuleError<CommandLineFailure>
