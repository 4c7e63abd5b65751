// swift-tools-version:6.0
import PackageDescription

// Linux only for now: the code uses Linux calls (st_mtim, MSG_NOSIGNAL, overlayfs); the README lists
// what a macOS build would need.
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")

let package = Package(
    name: "spark-image-tool",
    products: [
        .executable(name: "spark-image-tool", targets: ["spark-image-tool"]),
        // For the libFuzzer targets in Fuzz/ (a separate package, so `swift test` is unaffected).
        .library(name: "OCI", targets: ["OCI"]),
        .library(name: "Dockerfile", targets: ["Dockerfile"]),
        .library(name: "Registry", targets: ["Registry"]),
        .library(name: "Archive", targets: ["Archive"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C shims: typed wrappers over the system libraries, nothing else.
        .target(name: "CArchive", linkerSettings: [.linkedLibrary("archive")]),
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),
        // ISA-L's inflate, about twice zlib's speed, for reading gzip layers (base images).
        .target(name: "CIsal", linkerSettings: [.linkedLibrary("isal")]),
        // libssl for the TLS close_notify of a hijacked connection (half-closing exec stdin).
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl"), .linkedLibrary("ssl")]),

        // Small helpers every module may use: HintedError, hex SHA-256, errno text, subprocesses.
        .target(name: "Support", dependencies: [crypto]),

        // Pure modules: no I/O.
        .target(name: "OCI", dependencies: ["Support"]),
        .target(name: "Dockerfile", dependencies: ["Support"]),
        // What software an image holds (Maven, PyPI, Debian), and its SPDX 2.3 document.
        .target(name: "SBOM"),

        // I/O modules, lowest first. scripts/check-imports.sh keeps these lists equal to the imports.
        .target(name: "Spark", dependencies: ["Support"]),
        .target(name: "Archive", dependencies: ["CArchive", "CZlib", "CIsal", "Support", crypto]),
        .target(name: "Store", dependencies: ["OCI", "Archive", "Support"]),
        // Image formats on disk (oci-layout, oci-archive, docker-archive, rootfs tarballs), read and written.
        .target(name: "ImageFormats", dependencies: ["OCI", "Archive", "Store", "Support"]),
        .target(name: "HTTP", dependencies: ["CCurl", "Support"]),
        .target(name: "Registry", dependencies: ["OCI", "HTTP", "Support"]),
        .target(name: "DockerEngine", dependencies: ["HTTP", "Support"]),
        .target(name: "Build", dependencies: ["OCI", "Archive", "Store", "ImageFormats", "Dockerfile", "Spark", "Runtime", "SBOM", "Support", crypto]),
        .target(name: "Distribution", dependencies: ["OCI", "Archive", "Store", "Registry", "HTTP", "Support"]),
        .target(name: "Preload", dependencies: ["OCI", "Archive", "Store", "ImageFormats", "DockerEngine", "Support"]),
        // Running a process in an OCI runtime bundle over an overlay; nothing about images.
        .target(name: "Runtime", dependencies: ["Support"]),
        .executableTarget(name: "spark-image-tool", dependencies: [
            "OCI", "Store", "ImageFormats", "Spark", "HTTP", "Registry", "DockerEngine", "Build", "Distribution",
            "Preload", "Support", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "DockerfileTests", dependencies: ["Dockerfile"]),
        .testTarget(name: "SBOMTests", dependencies: ["SBOM"]),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive", "Support"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Archive", "OCI"]),
        .testTarget(name: "SparkTests", dependencies: ["Spark"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "CCurl"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "OCI", "HTTP", "Support"]),
        .testTarget(name: "BuildTests", dependencies: ["Build", "Dockerfile", "OCI", "Archive", "Runtime", "SBOM", "Spark", "Store", "Support"]),
        .testTarget(name: "PreloadTests", dependencies: ["Preload", "Store", "Archive", "OCI", "Support", "DockerEngine"]),
        .testTarget(name: "DistributionTests", dependencies: ["Distribution", "Store", "Registry", "OCI", "Support"]),
        // Runs the Runtime module's whole path as another user (rootless tests); `swift build` builds it.
        .executableTarget(name: "RuntimeProbe", dependencies: ["Runtime"], path: "Tests/RuntimeProbe"),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime"]),
        .testTarget(name: "DockerEngineTests", dependencies: ["DockerEngine"]),
        .testTarget(name: "IntegrationTests", dependencies: ["Support", "DockerEngine"]),
        // The CLI's pure parts (progress text), through @testable import of the executable.
        .testTarget(name: "CLITests", dependencies: ["spark-image-tool"]),
    ],
    swiftLanguageModes: [.v6]
)
