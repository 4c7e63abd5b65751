import ArgumentParser
import Foundation
import OCI
import Support

/// The files CI systems read after a build or push, in the formats their tools already write:
/// kaniko's `--digest-file` and `--image-name-with-digest-file`, buildx's `--metadata-file`.
struct ResultFileOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Write the image's manifest (or index) digest here, as kaniko does; one line per image when there are several.", valueName: "file"))
    var digestFile: String?

    @Option(name: .long, help: ArgumentHelp("Write REPOSITORY@DIGEST here, one line per image, as kaniko does.", valueName: "file"))
    var imageNameWithDigestFile: String?

    @Option(name: .long, help: ArgumentHelp("Write buildx's metadata JSON here (containerimage.digest, image.name, containerimage.descriptor).", valueName: "file"))
    var metadataFile: String?

    /// Writes each requested file; `images` in the order they were built or pushed.
    func write(_ images: [(reference: ImageReference, descriptor: Descriptor)]) throws {
        guard !images.isEmpty else { return }
        if let digestFile {
            try Self.replace(digestFile, with: Data(Self.digestLines(images).utf8))
        }
        if let imageNameWithDigestFile {
            try Self.replace(imageNameWithDigestFile, with: Data(Self.nameWithDigestLines(images).utf8))
        }
        if let metadataFile {
            let data = images.count == 1 ? try JSONDocument.encode(BuildxMetadata(images[0].reference, images[0].descriptor))
                : try JSONDocument.encode(Self.metadata(images))
            try Self.replace(metadataFile, with: data)
        }
    }

    /// kaniko writes the bare digest with no newline; several images get one line each.
    static func digestLines(_ images: [(reference: ImageReference, descriptor: Descriptor)]) -> String {
        images.map(\.descriptor.digest.description).joined(separator: "\n")
    }

    /// kaniko: `name@digest\n` per destination.
    static func nameWithDigestLines(_ images: [(reference: ImageReference, descriptor: Descriptor)]) -> String {
        images.map { "\($0.reference.name)@\($0.descriptor.digest)\n" }.joined()
    }

    /// Several images: one buildx object per reference, as `buildx bake` keys its metadata by target.
    static func metadata(_ images: [(reference: ImageReference, descriptor: Descriptor)]) -> [String: BuildxMetadata] {
        Dictionary(images.map { ($0.reference.description, BuildxMetadata($0.reference, $0.descriptor)) }, uniquingKeysWith: { first, _ in first })
    }

    /// A reader never sees half a file: Support's AtomicFile writes a sibling and renames it.
    static func replace(_ path: String, with data: Data) throws {
        do { try AtomicFile.replace(path, with: Array(data), mode: 0o644) } catch {
            throw CommandLineError(error.message, hint: "check that the directory of \(path) exists and is writable")
        }
    }
}

struct BuildxMetadata: Codable, Equatable {
    var digest: String
    var name: String
    var descriptor: BuildxDescriptor

    init(_ reference: ImageReference, _ descriptor: Descriptor) {
        digest = descriptor.digest.description
        name = reference.digest == nil ? reference.description : reference.name
        self.descriptor = BuildxDescriptor(mediaType: descriptor.mediaType, digest: digest, size: descriptor.size)
    }

    enum CodingKeys: String, CodingKey {
        case digest = "containerimage.digest"
        case name = "image.name"
        case descriptor = "containerimage.descriptor"
    }
}

struct BuildxDescriptor: Codable, Equatable {
    var mediaType: String
    var digest: String
    var size: Int64
}
