/// How a layer's tar stream is compressed on its way to disk.
public enum StreamCompression: Sendable, Equatable {
    case none
    /// `storeArchives`: the content of already-compressed files (jars, zips) goes into stored
    /// blocks instead of being compressed again.
    case gzip(level: Int32, storeArchives: Bool = true)
    case zstd(level: Int32, storeArchives: Bool = true)

    var storesArchives: Bool {
        switch self {
        case .none: false
        case .gzip(_, let storeArchives), .zstd(_, let storeArchives): storeArchives
        }
    }
}

/// The compressor stage of a pipeline, whatever its codec.
private protocol MarkableSink: ByteSink {
    var contentIsCompressed: Bool { get set }
}

extension BlockCompressor: MarkableSink {}

/// The two identities of a layer: `diffID` hashes the tar, `digest` hashes the stored blob.
public struct LayerDigests: Sendable, Equatable {
    public var diffIDHex: String
    public var uncompressedSize: Int64
    public var digestHex: String
    public var compressedSize: Int64
}

/// The single streaming pass that turns tar entries into a layer blob:
/// tar → SHA-256 (diff_id) → compression → SHA-256 (digest) → file.
/// Memory use is the size of the buffers, whatever the size of the files.
public final class LayerWriter {
    public let tar: TarWriter
    private let uncompressed: HashingSink
    private let compressed: HashingSink
    private let compressor: (any MarkableSink)?
    private let storeArchives: Bool

    public init(outputPath: String, compression: StreamCompression) throws {
        let (uncompressed, compressed, compressor) = try Self.pipeline(outputPath: outputPath, compression: compression)
        self.uncompressed = uncompressed
        self.compressed = compressed
        self.compressor = compressor
        storeArchives = compression.storesArchives
        tar = try TarWriter(sink: uncompressed)
    }

    /// Appends an entry, telling the compressor whether its content is already compressed.
    public func append(_ entry: TarEntry, contents: EntryContents = .none) throws {
        compressor?.contentIsCompressed = storeArchives && Self.isAlreadyCompressed(entry.path)
        try tar.append(entry, contents: contents)
    }

    /// Formats whose content deflate cannot shrink by more than a few percent.
    public static func isAlreadyCompressed(_ path: String) -> Bool {
        let name = path.lowercased()
        return [".jar", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".whl", ".egg", ".png", ".jpg", ".jpeg"].contains { name.hasSuffix($0) }
    }

    /// Ends the tar stream, flushes the file and returns both digests.
    public func finish() throws -> LayerDigests {
        try tar.finish()
        return Self.digests(uncompressed, compressed)
    }

    /// Stores an existing tarball (plain or compressed in any format libarchive reads) as a
    /// layer blob: decompresses it, checks it is a tar, and recompresses it.
    /// `progress` gets the uncompressed bytes read so far.
    public static func importTarball(at path: String, outputPath: String, compression: StreamCompression,
                                     progress: ((Int64) -> Void)? = nil) throws -> LayerDigests {
        let reader = try TarReader(path: path, raw: true)
        guard try reader.next() != nil else { throw ArchiveError(path: path, "empty file, not a tar archive") }
        let (uncompressed, compressed, _) = try pipeline(outputPath: outputPath, compression: compression)
        var header: [UInt8] = []
        try reader.readData { chunk in
            if header.count < 512 { header.append(contentsOf: chunk.prefix(512 - header.count)) }
            try uncompressed.write(chunk)
            progress?(uncompressed.byteCount)
        }
        guard isTarHeader(header) else {
            throw ArchiveError(path: path, "not a tar archive (no ustar header in the first block); a rootfs: base must be a tar or compressed tar of a root file system")
        }
        try uncompressed.finish()
        return digests(uncompressed, compressed)
    }

    private static func pipeline(outputPath: String, compression: StreamCompression) throws -> (HashingSink, HashingSink, (any MarkableSink)?) {
        let compressed = HashingSink(next: try FileSink(creating: outputPath))
        let compressor: (any MarkableSink)? = switch compression {
        case .none: nil
        case .gzip(let level, _): try GzipSink(next: compressed, codec: GzipCodec(level: level))
        case .zstd(let level, _): try ZstdSink(next: compressed, codec: ZstdCodec(level: level))
        }
        // Uncompressed, the blob is the tar: one hash gives both digests.
        guard let compressor else { return (compressed, compressed, nil) }
        return (HashingSink(next: compressor), compressed, compressor)
    }

    private static func digests(_ uncompressed: HashingSink, _ compressed: HashingSink) -> LayerDigests {
        LayerDigests(diffIDHex: uncompressed.digestHex!, uncompressedSize: uncompressed.byteCount,
                     digestHex: compressed.digestHex!, compressedSize: compressed.byteCount)
    }

    /// A ustar or GNU tar header block carries "ustar" at offset 257; an empty archive is all zeros.
    private static func isTarHeader(_ block: [UInt8]) -> Bool {
        guard block.count == 512 else { return false }
        return Array(block[257..<262]) == Array("ustar".utf8) || block.allSatisfy { $0 == 0 }
    }
}
