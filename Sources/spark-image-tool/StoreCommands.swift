import ArgumentParser
import Build
import Foundation
import ImageFormats
import OCI
import Store

extension Root {
    struct Images: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the images in the local store with their digests and sizes.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: JSONOutputOptions

        func run() throws {
            let store = try storeOptions.open()
            if let document = output.begin() {
                return try document.write(ImagesReport(images: try store.tags().map {
                    try ImageReport(reference: $0.reference, descriptor: $0.descriptor, store: store)
                }))
            }
            var rows = [["IMAGE", "DIGEST", "PLATFORM", "LAYERS", "SIZE"]]
            for tagged in try store.tags() {
                let image = try store.image(tagged.descriptor)
                rows.append([tagged.reference.familiarDescription, tagged.descriptor.digest.description,
                             image.config.platform.description, "\(image.manifest.layers.count)", formatBytes(image.contentSize)])
            }
            printTable(rows)
        }
    }

    struct Save: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write images from the local store to an archive.",
            discussion: """
                docker-archive files load with `docker load -i FILE`; oci-archive files are read by skopeo, podman and umoci.
                Example: spark-image-tool save registry.example.com/spark/spark:4.0.1 --format docker-archive -o spark.tar
                """)

        @OptionGroup var storeOptions: StoreOptions

        @Argument(help: "Images to save.")
        var images: [String]

        @Option(name: .long, help: "oci-archive or docker-archive.")
        var format: ArchiveFormat = .ociArchive

        @Option(name: .shortAndLong, help: ArgumentHelp("The archive to write.", valueName: "file"))
        var output: String

        @Option(name: .long, help: ArgumentHelp("For multi-platform images in a docker-archive: which platform.", valueName: "platform"))
        var platform: String?

        func run() throws {
            let store = try storeOptions.open()
            let references = try images.map { try ImageReference(parsing: $0) }
            try ArchiveDestination(store: store, format: format).write(references, to: output, platform: try platform.map { try Platform(parsing: $0) } ?? .host)
            print("wrote \(output) (\(format.rawValue), \(references.map(\.familiarDescription).joined(separator: ", ")))")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove tags from the local store (run gc to free the space).")

        @OptionGroup var storeOptions: StoreOptions

        @Argument(help: "Images to untag.")
        var images: [String]

        func run() throws {
            let store = try storeOptions.open()
            for text in images {
                let reference = try ImageReference(parsing: text)
                guard try store.untag(reference) else { throw StoreError.notFound(reference.description) }
                print("untagged \(reference.familiarDescription)")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that stored images have what Spark needs: java, python3 (spark-py), R (spark-r), tini, ps, a passwd entry for the user.",
            discussion: "Reads the image's layers; no container is started. Exits 1 when anything is missing.")

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "The platform of a multi-platform image (default: this machine's).")
        var platform: String?

        @Argument(help: "Images in the local store.")
        var images: [String]

        @OptionGroup var output: JSONOutputOptions

        func run() throws {
            let document = output.begin()
            let checker = ImageChecker(store: try storeOptions.open())
            let platform = try platform.map { try Platform(parsing: $0) } ?? .host
            var report = CheckReport(images: [])
            for text in images {
                let reference = try ImageReference(parsing: text)
                let found = try checker.check(reference, platform: platform)
                print(found.isEmpty ? "\(reference.familiarDescription): ok" : "\(reference.familiarDescription):")
                for finding in found { print("  - \(finding.problem)\n    hint: \(finding.fix)") }
                report.images.append(CheckedImageReport(reference: reference.description, ok: found.isEmpty, findings: found))
            }
            // Printed also when something is missing, as verify prints its problems.
            try document?.write(report)
            if report.images.contains(where: { !$0.ok }) { throw ExitCode(1) }
        }
    }

    struct GarbageCollect: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gc", abstract: "Remove blobs that no tag in the local store uses.")

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let result = try storeOptions.openForCollection().collectGarbage()
            print("removed \(result.removedBlobs) blobs, freed \(formatBytes(result.freedBytes))")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rehash every blob in the local store and check every tag's references.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: JSONOutputOptions

        func run() throws {
            let document = output.begin()
            let problems = try storeOptions.open().verify()
            try document?.write(VerifyReport(consistent: problems.isEmpty, problems: problems))
            guard problems.isEmpty else {
                for problem in problems { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
                throw ExitCode(ExitStatus.verificationFailed)
            }
            print("store is consistent")
        }
    }
}

func printTable(_ rows: [[String]]) {
    guard let columns = rows.first?.count else { return }
    let widths = (0..<columns).map { column in rows.map { $0[column].count }.max() ?? 0 }
    for row in rows {
        print(row.enumerated().map { index, cell in
            index == columns - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  "))
    }
}

func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
