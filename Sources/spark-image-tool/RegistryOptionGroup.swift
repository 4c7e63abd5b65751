import ArgumentParser
import Build
import Distribution
import Foundation
import OCI
import Registry
import Store

struct RegistryOptionGroup: ParsableArguments {
    @Option(name: .customLong("insecure-registry"), help: ArgumentHelp("Allow plain HTTP or unverified TLS for this registry only (host[:port]); repeatable.", valueName: "host"))
    var insecureRegistries: [String] = []

    @Option(name: .long, help: ArgumentHelp("A CA bundle to trust for registries, in addition to /etc/docker/certs.d/<host>/.", valueName: "file"))
    var caFile: String?

    @Option(name: .long, help: "Blobs transferred at once.")
    var jobs: Int = 4

    @Option(name: .long, help: "Retries after network errors, 408, 429 and 5xx.")
    var retries: Int = 5

    @Option(name: .long, help: ArgumentHelp("Upload in chunks of this many bytes (suffixes k, m, g), resuming after failures; default: one request per blob.", valueName: "size"))
    var chunkSize: String?

    @Option(name: .customLong("registry-mirror"), help: ArgumentHelp("A mirror to try first for docker.io images; repeatable.", valueName: "host"))
    var registryMirrors: [String] = []

    @Flag(name: .shortAndLong, help: "Print each registry request (never credentials or tokens).")
    var verbose = false

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard (0...Self.maxRetries).contains(retries) else { throw ValidationError("--retries must be between 0 and \(Self.maxRetries)") }
        if let chunkSize, Self.bytes(chunkSize, limit: Self.maxChunkSize) == nil {
            throw ValidationError("--chunk-size '\(chunkSize)' is not a size from 1 byte to 4g, such as 8m or 1048576")
        }
    }

    func options() -> RegistryOptions {
        return RegistryOptions(insecureRegistries: Set(insecureRegistries), caFile: caFile,
                               retry: RetryPolicy(maxRetries: retries), chunkSize: chunkSize.flatMap { Self.bytes($0) },
                               jobs: jobs, registryMirrors: registryMirrors, log: verbose ? Self.printToStandardError : nil)
    }

    @Sendable static func printToStandardError(_ line: String) {
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }

    func session(store: Store, renderer: ProgressRenderer) -> RegistrySession {
        RegistrySession(options: options(), store: store, events: renderer.handleTransfer)
    }

    /// Enough for a registry that answers slowly; more only multiplies the wait (and values
    /// near Int.max would overflow the attempt counter).
    static let maxRetries = 100
    /// Larger chunks gain nothing over a monolithic upload.
    static let maxChunkSize = 4 << 30

    /// A size such as 8m or 1048576, nil when it is not one or exceeds `limit`.
    static func bytes(_ text: String, limit: Int = .max) -> Int? {
        let units: [Character: Int] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
        let lower = text.lowercased().replacingOccurrences(of: "ib", with: "").replacingOccurrences(of: "b", with: "")
        let unit = lower.last.flatMap { units[$0] }
        guard let value = Int(unit == nil ? lower : String(lower.dropLast())), value > 0 else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit ?? 1)
        return overflow || product > limit ? nil : product
    }
}

extension PullPolicy: ExpressibleByArgument {}
