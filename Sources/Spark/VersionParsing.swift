import Foundation

/// Reading Spark's and Scala's versions from the files that record them. Pure functions.
enum VersionParsing {
    /// `Spark 4.3.0 built for Hadoop 3.4.1` (a release's RELEASE file) → `4.3.0`.
    static func releaseVersion(_ text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ")
            if words.count >= 2 && words[0] == "Spark" && (words.count == 2 || words[2] == "built") {
                return String(words[1])
            }
        }
        return nil
    }

    /// `__version__: str = "4.3.0"` or `__version__ = '4.3.0'` (pyspark/version.py) → `4.3.0`.
    static func pysparkVersion(_ text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("__version__") {
            let quoted = line.split(separator: "=", maxSplits: 1).last ?? ""
            let value = quoted.trimming([" ", "\t", "\"", "'"])
            if !value.isEmpty { return value }
        }
        return nil
    }

    /// The version that follows `<artifactId>spark-parent_<scala></artifactId>` in Spark's
    /// root pom.xml (the `<parent>` block before it has Apache's version).
    static func pomVersion(_ text: String) -> String? {
        guard let artifact = text.range(of: "<artifactId>spark-parent"),
              let open = text.range(of: "<version>", range: artifact.upperBound..<text.endIndex),
              let close = text.range(of: "</version>", range: open.upperBound..<text.endIndex)
        else { return nil }
        let value = text[open.upperBound..<close.lowerBound].trimming([" ", "\n", "\t"])
        return value.isEmpty ? nil : value
    }

    /// `spark-core_2.13-4.3.0.jar` → (scala: `2.13`, version: `4.3.0`).
    static func coreJar(in names: [String]) -> (scala: String, version: String)? {
        for name in names where name.hasPrefix("spark-core_") && name.hasSuffix(".jar") {
            let stem = name.dropFirst("spark-core_".count).dropLast(".jar".count)
            guard let dash = stem.firstIndex(of: "-") else { continue }
            let scala = stem[..<dash], version = stem[stem.index(after: dash)...]
            if !scala.isEmpty && !version.isEmpty && !version.hasSuffix("tests") && !version.hasSuffix("sources") {
                return (String(scala), String(version))
            }
        }
        return nil
    }
}

private extension Substring {
    func trimming(_ set: Set<Character>) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
