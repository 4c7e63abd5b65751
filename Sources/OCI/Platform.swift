/// An OS/architecture pair, as in image indexes and configs.
public struct Platform: Codable, Hashable, Sendable, CustomStringConvertible {
    public var architecture: String
    public var os: String
    public var variant: String?
    public var osVersion: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
    }

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// Parses `linux/amd64` or `linux/arm64/v8`.
    public init(parsing text: String) throws(OCIError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else { throw .invalidPlatform(text) }
        self.init(os: parts[0], architecture: Platform.normalizedArchitecture(parts[1]), variant: parts.count == 3 ? parts[2] : nil)
    }

    public var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    /// The platform this binary runs on, in Go's naming (amd64, arm64).
    public static var host: Platform {
        #if arch(arm64)
        Platform(os: "linux", architecture: "arm64")
        #else
        Platform(os: "linux", architecture: "amd64")
        #endif
    }

    /// Whether an index entry serves this platform; a missing variant matches any.
    public func matches(_ candidate: Platform) -> Bool {
        candidate.os == os && candidate.architecture == architecture
            && (variant == nil || candidate.variant == nil || candidate.variant == variant)
    }

    private static func normalizedArchitecture(_ arch: String) -> String {
        switch arch {
        case "x86_64", "x86-64": "amd64"
        case "aarch64": "arm64"
        default: arch
        }
    }
}
