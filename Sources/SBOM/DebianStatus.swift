/// The installed packages of `/var/lib/dpkg/status`: paragraphs of `Field: value` lines; only
/// those whose Status ends in `installed` count.
public enum DebianStatus {
    public static func installedPackages(_ text: String, path: String = "/var/lib/dpkg/status") -> [SoftwarePackage] {
        paragraphs(text).compactMap { fields in
            guard let name = fields["Package"], let version = fields["Version"],
                  fields["Status"].map({ $0.hasSuffix(" installed") }) ?? true else { return nil }
            return SoftwarePackage(ecosystem: .debian(architecture: fields["Architecture"] ?? "all"), name: name, version: version, path: path)
        }
    }

    /// Each paragraph's fields; continuation lines (starting with a space) are not needed here.
    static func paragraphs(_ text: String) -> [[String: String]] {
        var result: [[String: String]] = []
        var current: [String: String] = [:]
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) {
                if !current.isEmpty { result.append(current) }
                current = [:]
            } else if let first = line.first, first != " ", first != "\t", let colon = line.firstIndex(of: ":") {
                current[String(line[..<colon])] = line[line.index(after: colon)...].trimmingSpaces
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
