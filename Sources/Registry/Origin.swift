import Foundation

/// Where a URL points, as browsers and registries compare it: scheme, lowercased host and
/// effective port (80 for http, 443 for https when none is written). The one rule for whether
/// credentials may go with a request and whether a 401 speaks for the registry.
struct Origin: Equatable {
    let scheme: String
    let host: String
    let port: Int

    init?(_ url: String) {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
              let host = parts.host?.lowercased(), !host.isEmpty else { return nil }
        guard let port = parts.port ?? Self.defaultPorts[scheme] else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// `host[:port]` as `--insecure-registry` and certs.d name it (the port only when written).
    static func authority(of url: String) -> String? {
        guard let parts = URLComponents(string: url), let host = parts.host?.lowercased(), !host.isEmpty else { return nil }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return parts.port.map { "\(bracketed):\($0)" } ?? bracketed
    }

    private static let defaultPorts = ["http": 80, "https": 443]
}
