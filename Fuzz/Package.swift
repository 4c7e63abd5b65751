// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the parsers that read untrusted input. Built only by scripts/fuzz.sh with
// `swift build -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld` (gold crashes on these
// links). Each target's main.swift hands the process to libFuzzer through LLVMFuzzerRunDriver:
// SwiftPM links every executable with `--defsym main=<target>_main`, which wins over libFuzzer's.

func fuzzer(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: "spark-image-tool") })
}

let package = Package(
    name: "spark-image-tool-fuzz",
    dependencies: [.package(name: "spark-image-tool", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzerDriver"]),
        fuzzer("FuzzDockerfile", ["Dockerfile"]),
        fuzzer("FuzzImageReference", ["OCI"]),
        fuzzer("FuzzAuthChallenge", ["Registry"]),
        fuzzer("FuzzManifest", ["OCI"]),
        fuzzer("FuzzTarReader", ["Archive"]),
    ],
    swiftLanguageModes: [.v6]
)
