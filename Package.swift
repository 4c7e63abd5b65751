// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "spark-image-tool",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "spark-image-tool", targets: ["spark-image-tool"]),
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
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),

        // Pure modules: no I/O.
        .target(name: "OCI"),
        .target(name: "Dockerfile"),

        // I/O modules.
        .target(name: "Archive", dependencies: [
            "CArchive", "CZlib", "CIsal", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Store", dependencies: ["OCI", "Archive"]),
        .target(name: "HTTP", dependencies: ["CCurl"]),
        .target(name: "Registry", dependencies: ["OCI", "HTTP", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "DockerEngine", dependencies: ["OCI", "HTTP", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Spark", dependencies: ["OCI"]),
        .target(name: "Builder", dependencies: ["OCI", "Archive", "Store", "Dockerfile", "Spark", "HTTP", "Registry", "DockerEngine"]),
        .executableTarget(name: "spark-image-tool", dependencies: [
            "Builder", "Registry", "HTTP", "DockerEngine", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "DockerfileTests", dependencies: ["Dockerfile"]),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive"]),
        .testTarget(name: "StoreTests", dependencies: ["Store"]),
        .testTarget(name: "SparkTests", dependencies: ["Spark"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "CCurl"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "OCI", "HTTP"]),
        .testTarget(name: "BuilderTests", dependencies: ["Builder", "Dockerfile", "OCI", "Archive"]),
        .testTarget(name: "IntegrationTests", dependencies: ["OCI", .product(name: "Crypto", package: "swift-crypto")]),
    ],
    swiftLanguageModes: [.v6]
)
