import DockerEngine
import Foundation
import Support

/// Runs a command in one node with stdin streamed in: what `ctr` (containerd) and `podman`
/// (cri-o) loads share, whatever reaches the node (Engine API exec, `minikube ssh`).
public protocol NodeCommandRunner: Sendable {
    /// The node's name, for messages and the report.
    var node: String { get }
    /// Runs `command` in the node as root, `stdin` streamed in when given.
    func run(_ command: [String], stdin: EngineClient.InputProducer?) throws -> CtrResult
}

/// A node of a minikube profile on a VM driver (kvm2, qemu2, hyperkit, virtualbox, vfkit,
/// hyperv, …), reached with `minikube -p PROFILE ssh [-n NODE] -- sudo COMMAND`.
///
/// `--native-ssh=false`: minikube's native client asks for a pseudo-terminal (with echo) even
/// when it runs a command, which would mangle a binary stdin and echo it into stdout; the
/// external `ssh` client gets no terminal when stdin is not one and passes the bytes as they are.
/// Both join the arguments with spaces for the VM's shell, so each one is quoted here.
public struct MinikubeSSHTransport: NodeCommandRunner, ContainerdTransport, Equatable {
    public let profile: String
    /// The node's name in the profile (`m02`); empty for the primary control plane.
    public let nodeName: String

    public init(profile: String, nodeName: String) {
        self.profile = profile
        self.nodeName = nodeName
    }

    /// The machine name minikube prints: `PROFILE`, `PROFILE-m02`.
    public var node: String { nodeName.isEmpty ? profile : "\(profile)-\(nodeName)" }

    /// The `minikube` command line that runs `command` as root in the node.
    public func commandLine(_ command: [String]) -> [String] {
        ["minikube", "-p", profile, "ssh", "--native-ssh=false"] + (nodeName.isEmpty ? [] : ["-n", nodeName])
            + ["--", (["sudo"] + command).map(Self.shellQuoted).joined(separator: " ")]
    }

    public func run(_ command: [String], stdin: EngineClient.InputProducer?) throws -> CtrResult {
        try Self.requireSSHClient()
        let result = try LocalProcess.run(commandLine(command), stdin: stdin, what: "minikube ssh into \(node)")
        // minikube exits 1 when the command in the node fails; 127 is env's "not found".
        if result.exitCode == 127 { throw MinikubeProfile.missing }
        return result
    }

    public func ctr(_ arguments: [String], stdin: EngineClient.InputProducer?) throws -> CtrResult {
        try run(["ctr"] + arguments, stdin: stdin)
    }

    /// minikube uses its native client, `--native-ssh=false` or not, when no `ssh` program is on
    /// PATH; that client would alter the archive (see above).
    static func requireSSHClient(searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "") throws {
        guard !searchPath.split(separator: ":").contains(where: { FileManager.default.isExecutableFile(atPath: "\($0)/ssh") }) else { return }
        throw PreloadError("`minikube ssh` needs the ssh program on PATH to pass an image through unchanged (minikube's built-in client would alter it)",
                           hint: "install an OpenSSH client (Debian and Ubuntu: openssh-client), or put ssh on PATH")
    }

    /// One word for a POSIX shell, whatever it holds.
    static func shellQuoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./:=@%+,".contains($0)) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}

/// A program on this machine, stdin streamed in from a producer and counted.
enum LocalProcess {
    static func run(_ arguments: [String], stdin: EngineClient.InputProducer?, what: String) throws -> CtrResult {
        let sent = Locked<Int64>(0)
        let output: ProcessOutput
        do {
            output = try Subprocess.run(arguments) { write in
                try stdin?({ bytes in
                    try write(bytes)
                    sent.update { $0 += Int64(bytes.count) }
                })
            }
        } catch let error as HintedError {
            throw error
        } catch {
            throw PreloadError("cannot run \(what): \(error)", hint: "is \(arguments[0]) installed and on PATH?")
        }
        return CtrResult(exitCode: Int(output.status), stdout: output.stdoutText, stderr: output.stderrText, bytesSent: sent.value)
    }
}
