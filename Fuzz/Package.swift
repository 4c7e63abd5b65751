// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the parsers that read untrusted input. Built only by scripts/fuzz.sh with
// `swift build -Xswiftc -sanitize=fuzzer,address`; libFuzzer supplies `main`.

func fuzzer(_ name: String, _ products: [String]) -> Target {
    .executableTarget(name: name, dependencies: products.map { .product(name: $0, package: "spark-image-tool") })
}

let package = Package(
    name: "spark-image-tool-fuzz",
    dependencies: [.package(name: "spark-image-tool", path: "..")],
    targets: [
        fuzzer("FuzzDockerfile", ["Dockerfile"]),
        fuzzer("FuzzImageReference", ["OCI"]),
        fuzzer("FuzzAuthChallenge", ["Registry"]),
        fuzzer("FuzzManifest", ["OCI"]),
        fuzzer("FuzzTarReader", ["Archive"]),
    ],
    swiftLanguageModes: [.v6]
)
