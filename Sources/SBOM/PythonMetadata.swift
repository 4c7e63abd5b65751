/// Python distributions: `*.dist-info/METADATA` and `PKG-INFO` (email-style headers), the zips
/// Spark ships under python/lib, and pyspark's version.py.
public enum PythonMetadata {
    /// Name and Version from the headers of METADATA or PKG-INFO (the body after the first blank line is ignored).
    public static func nameAndVersion(_ text: String) -> (name: String, version: String)? {
        var name: String?, version: String?
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.trimmingSpaces.isEmpty { break }
            if line.hasPrefix("Name:") { name = line.dropFirst(5).trimmingSpaces }
            if line.hasPrefix("Version:") { version = line.dropFirst(8).trimmingSpaces }
        }
        guard let name, let version, !name.isEmpty, !version.isEmpty else { return nil }
        return (name, version)
    }

    /// Whether a path is the METADATA of an installed distribution in a site-packages (or dist-packages) directory.
    public static func isInstalledMetadata(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        guard parts.count >= 3, parts[parts.count - 1] == "METADATA", parts[parts.count - 2].hasSuffix(".dist-info") else { return false }
        return parts[parts.count - 3] == "site-packages" || parts[parts.count - 3] == "dist-packages"
    }

    /// `py4j-0.10.9.9-src.zip` → (py4j, 0.10.9.9); `pyspark.zip` → (pyspark, nil): the version must come from inside.
    public static func zipName(_ fileName: String) -> (name: String, version: String?)? {
        guard fileName.hasSuffix(".zip") else { return nil }
        var stem = fileName.dropLast(4)
        if stem.hasSuffix("-src") { stem = stem.dropLast(4) }
        guard let dash = stem.firstIndex(of: "-") else { return stem.isEmpty ? nil : (String(stem), nil) }
        return (String(stem[..<dash]), String(stem[stem.index(after: dash)...]))
    }

    /// `__version__: str = "4.3.0"` or `__version__ = '4.3.0'` in a version.py.
    public static func versionAssignment(_ text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("__version__") {
            let quotes = line.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\"" || $0 == "'" })
            if quotes.count >= 3, !quotes[1].isEmpty { return String(quotes[1]) }
        }
        return nil
    }

    /// PEP 503 normalisation, as PyPI purls spell names: lower case, runs of `-_.` as one `-`.
    public static func normalized(_ name: String) -> String {
        var result = ""
        var lastWasSeparator = false
        for character in name.lowercased() {
            let separator = character == "-" || character == "_" || character == "."
            if separator { if !lastWasSeparator { result.append("-") } } else { result.append(character) }
            lastWasSeparator = separator
        }
        return result
    }
}
