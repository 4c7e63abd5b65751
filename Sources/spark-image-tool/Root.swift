import ArgumentParser
import Foundation

@main
struct Root: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spark-image-tool",
        abstract: "Builds Apache Spark container images without a Docker daemon.",
        discussion: """
            Compatible with Spark's bin/docker-image-tool.sh:
              spark-image-tool [-f file] [-p file] [-R file] [-r repo] [-t tag] [-u uid] [-n] [-b arg]... build

            \(ExitStatus.summary)
            """,
        subcommands: [Build.self, Push.self, Pull.self, Images.self, Save.self, Remove.self, GarbageCollect.self, Verify.self,
                      Preload.self, Index.self, Check.self, SBOMCommand.self, RebaseCommand.self, Inspect.self, History.self, Tag.self, Login.self,
                      Logout.self])

    static func main() {
        let arguments = ClusterNameArguments.rewrite(CompatibleArguments.rewrite(Array(CommandLine.arguments.dropFirst())))
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            ExitStatus.exit(with: error)
        }
    }
}

/// docker-image-tool.sh takes its options first and the command last (`-r repo -t tag build`);
/// this moves such a trailing command to the front, where the parser expects subcommands.
enum CompatibleArguments {
    static let commands = ["build", "push"]

    static func rewrite(_ arguments: [String]) -> [String] {
        guard let last = arguments.last, commands.contains(last), let first = arguments.first, first.hasPrefix("-"),
              first != "-h", first != "--help" else { return arguments }
        return [last] + arguments.dropLast()
    }
}

/// `--kind=NAME` and `--k3d=NAME`: the cluster's name given with the flag, where it cannot be
/// taken for an image (the flags take no value of their own). They become `--kind --cluster NAME`.
enum ClusterNameArguments {
    static let flags = ["--kind", "--k3d"]

    static func rewrite(_ arguments: [String]) -> [String] {
        var rewritten: [String] = []
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { return rewritten + arguments[index...] }
            guard let flag = flags.first(where: { argument.hasPrefix($0 + "=") }) else {
                rewritten.append(argument)
                continue
            }
            rewritten += [flag, "--cluster", String(argument.dropFirst(flag.count + 1))]
        }
        return rewritten
    }
}
