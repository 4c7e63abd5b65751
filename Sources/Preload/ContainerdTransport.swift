import DockerEngine
import Foundation
import Support

/// What one command in a node (`ctr`, `podman`) said.
public struct CtrResult: Sendable {
    public var exitCode: Int
    public var stdout: String
    public var stderr: String
    /// Bytes of stdin the other side took.
    public var bytesSent: Int64
}

/// How `ctr` reaches one node's containerd: by exec in the node's container (kind, k3d,
/// minikube's containerd runtime), or on this machine against a socket (`--containerd`). The
/// preload logic is the same over both.
public protocol ContainerdTransport: Sendable {
    /// The node's name, for messages and the report.
    var node: String { get }
    /// Runs `ctr ARGUMENTS` against the node's containerd, `stdin` streamed in when given.
    func ctr(_ arguments: [String], stdin: EngineClient.InputProducer?) throws -> CtrResult
}

/// The node container's own `ctr`, through the Engine API's exec: what `kind load` does, with no
/// docker CLI and no temporary file on either side.
public struct NodeExecTransport: ContainerdTransport, NodeCommandRunner {
    public let engine: EngineClient
    public let node: String
    /// `ctr`, or `ctr --address SOCKET` where the node's containerd is not at the default socket (k3s).
    public let command: [String]

    public init(engine: EngineClient, container: String, command: [String] = ["ctr"]) {
        self.engine = engine
        self.node = container
        self.command = command
    }

    public func ctr(_ arguments: [String], stdin: EngineClient.InputProducer?) throws -> CtrResult {
        try run(command + arguments, stdin: stdin)
    }

    public func run(_ command: [String], stdin: EngineClient.InputProducer?) throws -> CtrResult {
        let result = try engine.exec(in: node, command: command, stdin: stdin)
        return CtrResult(exitCode: result.exitCode, stdout: result.standardOutput, stderr: result.standardError,
                         bytesSent: result.bytesSent)
    }
}

/// This machine's `ctr --address SOCKET`: a containerd reachable from here (a k3s host, a node
/// you are logged into).
public struct LocalCtrTransport: ContainerdTransport {
    public let address: String
    public var node: String { address }

    public init(address: String) { self.address = address }

    public func ctr(_ arguments: [String], stdin: EngineClient.InputProducer?) throws -> CtrResult {
        let result = try LocalProcess.run(["ctr", "--address", address] + arguments, stdin: stdin, what: "ctr for \(address)")
        guard result.exitCode != 127 else {
            throw PreloadError("ctr is not on PATH", hint: "install containerd (it brings ctr), or reach the node with --kind")
        }
        return result
    }
}
