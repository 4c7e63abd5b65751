import Archive
import Crypto
import SBOM
import Support

/// The files of an image that name software, each read from the layer tar as it streams by:
/// jars (Maven coordinates from their pom.properties, else their name), the Python zips Spark
/// ships, installed Python distributions' METADATA, and dpkg's status file.
enum PackageFiles {
    /// The most read into memory from one file or zip entry: pom.properties, METADATA and dpkg's status are far smaller.
    static let textLimit = 16 << 20

    static func read(path: String, size: Int64, from reader: TarReader) throws -> [SoftwarePackage] {
        let fileName = String(path.split(separator: "/").last ?? "")
        if fileName.hasSuffix(".jar") { return [try jar(path: path, fileName: fileName, reader: reader)] }
        if fileName.hasSuffix(".zip"), path.split(separator: "/").contains("python"), let zip = PythonMetadata.zipName(fileName) {
            return [try pythonZip(path: path, name: zip.name, version: zip.version, reader: reader)]
        }
        if PythonMetadata.isInstalledMetadata(path), size <= textLimit,
           let (name, version) = PythonMetadata.nameAndVersion(String(decoding: try reader.readAll(), as: UTF8.self)) {
            let distInfo = path.split(separator: "/").dropLast().joined(separator: "/")
            return [SoftwarePackage(ecosystem: .pypi, name: name, version: version, path: "/" + distInfo)]
        }
        if path == "var/lib/dpkg/status", size <= textLimit {
            return DebianStatus.installedPackages(String(decoding: try reader.readAll(), as: UTF8.self))
        }
        return []
    }

    private static func jar(path: String, fileName: String, reader: TarReader) throws -> SoftwarePackage {
        var poms: [MavenCoordinates] = []
        let sha256 = try scanZip(path: path, reader: reader) { entry, zip in
            guard MavenCoordinates.isPomProperties(entry), let bytes = try zip.read(limit: textLimit),
                  let coordinates = MavenCoordinates(pomProperties: String(decoding: bytes, as: UTF8.self)) else { return }
            poms.append(coordinates)
        }
        // A shaded jar carries the pom.properties of everything it bundles: its own is the one its name starts with.
        let own = poms.first { fileName.hasPrefix($0.artifact + "-") } ?? (poms.count == 1 ? poms[0] : nil)
        let coordinates = own ?? MavenCoordinates(fileName: fileName)
        return SoftwarePackage(ecosystem: .maven(group: coordinates?.group ?? ""), name: coordinates?.artifact ?? String(fileName.dropLast(4)),
                               version: coordinates?.version, path: "/" + path, sha256: sha256)
    }

    /// pyspark.zip carries its version in pyspark/version.py (or a PKG-INFO); py4j's zip in its name.
    private static func pythonZip(path: String, name: String, version: String?, reader: TarReader) throws -> SoftwarePackage {
        var version = version
        let sha256 = try scanZip(path: path, reader: reader) { entry, zip in
            guard version == nil else { return }
            if entry == "\(name)/version.py", let bytes = try zip.read(limit: textLimit) {
                version = PythonMetadata.versionAssignment(String(decoding: bytes, as: UTF8.self))
            } else if entry.hasSuffix("PKG-INFO") || entry.hasSuffix(".dist-info/METADATA"), let bytes = try zip.read(limit: textLimit) {
                version = PythonMetadata.nameAndVersion(String(decoding: bytes, as: UTF8.self))?.version
            }
        }
        return SoftwarePackage(ecosystem: .pypi, name: name, version: version, path: "/" + path, sha256: sha256)
    }

    /// Reads the current tar entry as a zip, handing each zip entry's name to `visit`, and returns
    /// the SHA-256 of all its bytes. A zip libarchive cannot read is still hashed, its entries unseen.
    private static func scanZip(path: String, reader: TarReader, visit: (String, ZipStreamReader) throws -> Void) throws -> String {
        let hashing = HashingSource(reader)
        do {
            let zip = try ZipStreamReader(name: path) { try hashing.read(into: $0) }
            while let entry = try zip.next() { try visit(entry.path, zip) }
        } catch let error as ArchiveError where error.path == path {
            // Not a zip we can read (or a stored entry we cannot find the end of): the name and checksum still hold.
        }
        return try hashing.drain()
    }
}

/// The tar entry's bytes, hashed as they pass to whoever reads them, then the rest.
private final class HashingSource {
    private let reader: TarReader
    private var hasher = SHA256()

    init(_ reader: TarReader) { self.reader = reader }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = try reader.readData(into: buffer)
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        return count
    }

    /// Hashes what no one read, and returns the hex digest of the whole entry.
    func drain() throws -> String {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while try read(into: buffer) > 0 {}
        return SHA256Hex.hex(hasher.finalize())
    }
}
