/// An image reference, normalised as docker does: `busybox` is `docker.io/library/busybox:latest`.
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    public static let dockerHub = "docker.io"
    public static let defaultTag = "latest"

    public let registry: String
    public let repository: String
    /// nil only when the reference pins a digest and names no tag.
    public let tag: String?
    public let digest: Digest?

    public init(parsing text: String) throws(OCIError) {
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do { digest = try Digest(parsing: String(rest[rest.index(after: at)...])) } catch {
                throw .invalidReference(text, reason: error.description)
            }
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        let (registry, repository) = Self.splitRegistry(String(rest))
        try Self.validate(registry: registry, repository: repository, in: text)
        if let tag { try Self.validate(tag: tag, in: text) }
        self.registry = registry
        self.repository = repository
        self.digest = digest
        self.tag = tag ?? (digest == nil ? Self.defaultTag : nil)
    }

    /// `registry/repository`, without tag or digest.
    public var name: String { "\(registry)/\(repository)" }

    public var description: String {
        name + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }

    /// The short form docker prints: `spark:4.0.1` for `docker.io/library/spark:4.0.1`.
    public var familiarDescription: String {
        var short = description
        for prefix in ["\(Self.dockerHub)/library/", "\(Self.dockerHub)/"] where short.hasPrefix(prefix) {
            short.removeFirst(prefix.count)
            break
        }
        return short
    }

    /// The same repository under another tag.
    public func withTag(_ newTag: String) throws(OCIError) -> ImageReference {
        try ImageReference(parsing: "\(name):\(newTag)")
    }

    /// Throws unless `tag` is a valid tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    public static func validate(tag: String, in text: String? = nil) throws(OCIError) {
        let bytes = Array(tag.utf8)
        let valid = !bytes.isEmpty && bytes.count <= 128 && isWordByte(bytes[0])
            && bytes.dropFirst().allSatisfy { isWordByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
        if !valid {
            throw .invalidReference(text ?? tag, reason: "tag '\(tag)' must be 1 to 128 characters of A-Z a-z 0-9 _ . - and not start with . or -")
        }
    }

    // MARK: - Normalisation and validation (docker/distribution's grammar)

    private static func splitRegistry(_ name: String) -> (String, String) {
        guard let slash = name.firstIndex(of: "/") else { return (dockerHub, "library/\(name)") }
        let first = String(name[..<slash])
        let looksLikeHost = first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first
        guard looksLikeHost else { return (dockerHub, name) }
        let remainder = String(name[name.index(after: slash)...])
        let registry = first == "index.docker.io" ? dockerHub : first
        if registry == dockerHub && !remainder.contains("/") { return (registry, "library/\(remainder)") }
        return (registry, remainder)
    }

    private static func validate(registry: String, repository: String, in text: String) throws(OCIError) {
        if repository.isEmpty {
            throw .invalidReference(text, reason: "a repository name is required after '\(registry)/'")
        }
        if repository.lowercased() != repository {
            throw .invalidReference(text, reason: "repository name '\(repository)' must be lowercase")
        }
        if registry.count + 1 + repository.count > 255 {
            throw .invalidReference(text, reason: "repository name must not be longer than 255 characters")
        }
        for component in repository.split(separator: "/", omittingEmptySubsequences: false) where !isPathComponent(component) {
            throw .invalidReference(text, reason: "repository path component '\(component)' must be lowercase letters and digits, separated by '.', '_', '__' or '-'")
        }
        if !isHost(registry) {
            throw .invalidReference(text, reason: "'\(registry)' is not a valid registry host[:port]")
        }
    }

    /// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`: alphanumeric runs joined by one separator each.
    private static func isPathComponent(_ component: Substring) -> Bool {
        var separator = ""
        var sawAlnum = false
        for c in component {
            if isAlnumLower(c) {
                guard separator.isEmpty || isSeparator(separator), sawAlnum || separator.isEmpty else { return false }
                separator = ""
                sawAlnum = true
            } else {
                guard sawAlnum else { return false }
                separator.append(c)
            }
        }
        return sawAlnum && separator.isEmpty
    }

    private static func isSeparator(_ text: String) -> Bool {
        text == "." || text == "_" || text == "__" || text.allSatisfy { $0 == "-" }
    }

    /// A DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port.
    private static func isHost(_ host: String) -> Bool {
        var name = Substring(host)
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let address = name[name.index(after: name.startIndex)..<close]
            guard !address.isEmpty, address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            name = name[name.index(after: close)...]
            return name.isEmpty || isPort(name)
        }
        if let colon = name.lastIndex(of: ":") {
            guard isPort(name[colon...]) else { return false }
            name = name[..<colon]
        }
        return !name.isEmpty && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            return first.isLetterOrDigitASCII && last.isLetterOrDigitASCII && label.allSatisfy { $0.isLetterOrDigitASCII || $0 == "-" }
        }
    }

    private static func isPort(_ text: Substring) -> Bool {
        text.count > 1 && text.first == ":" && text.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func isAlnumLower(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "_")
    }
}

private extension Character {
    var isLetterOrDigitASCII: Bool { isASCII && (isLetter || isNumber) }
}
