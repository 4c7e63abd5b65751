import Foundation
import HTTP
import OCI
@testable import Registry
import Support
import Testing

/// What a registry says is checked before it is believed: realms, ranges, media types,
/// digests and sizes.
struct TokenRealmTests {
    static let options = RegistryOptions(insecureRegistries: ["trusted.example:8080"], certificateDirectories: [])

    @Test(arguments: [
        ("https://auth.example.com/token", "http://127.0.0.1:5000", true),
        ("http://127.0.0.1:5001/token", "http://127.0.0.1:5000", true),
        ("http://LOCALHOST:9/token", "http://localhost:5000", true),
        ("http://127.0.0.2:5001/token", "http://127.0.0.1:5000", false),
        ("http://localhost:5001/token", "http://127.0.0.1:5000", false),
        ("http://auth.example.com/token", "https://registry.example.com", false),
        ("http://trusted.example:8080/token", "https://registry.example.com", true),
        ("not a url", "https://registry.example.com", false),
        ("ftp://auth.example.com/token", "https://registry.example.com", false),
    ])
    func credentialsGoInClearTextOnlyToTheRegistrysHost(realm: String, registry: String, allowed: Bool) {
        #expect(Self.options.mayReceiveCredentials(realm: realm, registryURL: registry) == allowed)
    }

    /// The registry's client certificate and insecure opt-in stay with its host; a token server
    /// or storage host is verified on its own terms.
    @Test func otherHostsGetTheirOwnTLS() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "certs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: "\(dir)/registry.example.com", withIntermediateDirectories: true)
        for name in ["ca.crt", "client.cert", "client.key"] {
            FileManager.default.createFile(atPath: "\(dir)/registry.example.com/\(name)", contents: Data())
        }
        let options = RegistryOptions(insecureRegistries: ["registry.example.com"], certificateDirectories: [dir])
        let client = RegistryClient(registry: "registry.example.com", options: options, http: HTTPClient())
        let own = client.tls(for: "https://REGISTRY.example.com:443/v2/x")
        #expect(!own.verify && own.clientCertificate != nil)
        for other in ["https://auth.example.com/token", "https://storage.example.com/blob?sig=x", "https://registry.example.com.evil.example/v2/"] {
            let tls = client.tls(for: other)
            #expect(tls.verify, "an insecure registry does not make \(other) insecure")
            #expect(tls.clientCertificate == nil && tls.clientKey == nil, "the registry's client certificate is not sent to \(other)")
            #expect(tls.caFile == "\(dir)/registry.example.com/ca.crt", "the registry's CA is still trusted")
        }
        #expect(Origin.authority(of: "https://Auth.Example.com:8443/t") == "auth.example.com:8443")
    }
}

struct UploadRangeTests {
    @Test(arguments: [
        ("0-9", Int64(100), Int64?.some(10)),
        ("bytes=0-99", 100, 100),
        ("0-0", 100, 1),
        (nil, 100, nil),
        ("garbage", 100, nil),
        ("0-", 100, nil),
        ("0--5", 100, nil),
    ] as [(String?, Int64, Int64?)])
    func nextOffset(header: String?, size: Int64, expected: Int64?) throws {
        #expect(try RegistryClient.nextOffset(range: header, size: size) == expected)
    }

    @Test(arguments: ["0-9223372036854775807", "0-100", "0-99999999999999999999"])
    func rangesPastTheBlobAreErrors(header: String) {
        #expect(throws: RegistryError.self) { try RegistryClient.nextOffset(range: header, size: 100) }
    }
}

struct ManifestMediaTypeTests {
    static let index = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#
    static let docker = #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#

    @Test(arguments: [
        ("application/vnd.oci.image.index.v1+json", "{}", MediaType.ociIndex),
        (" Application/VND.oci.image.index.v1+json ; charset=utf-8", "{}", MediaType.ociIndex),
        ("", index, MediaType.ociIndex),
        (";", index, MediaType.ociIndex),
        (nil, "{}", MediaType.ociManifest),
        ("application/json", docker, MediaType.dockerManifest),
    ] as [(String?, String, String)])
    func mediaTypeFromHeaderOrDocument(header: String?, document: String, expected: String) throws {
        #expect(try RegistryClient.mediaType(header: header, document: Array(document.utf8), what: "r/x:1") == expected)
    }

    @Test func anOddTypeIsNamed() {
        #expect {
            try RegistryClient.mediaType(header: "text/html", document: Array("<html>".utf8), what: "r/x:1")
        } throws: { "\($0)".contains("r/x:1 is served as 'text/html'") }
    }
}

struct DigestPinTests {
    static let abcSHA512 = "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

    @Test func sha512IsComputedNotAssumed() throws {
        #expect(RegistryClient.digest(of: Array("abc".utf8), algorithm: "sha512")?.description == Self.abcSHA512)
        #expect(RegistryClient.digest(of: Array("abd".utf8), algorithm: "sha512")?.description != Self.abcSHA512)
        #expect(RegistryClient.digest(of: Array("abc".utf8), algorithm: "md5") == nil)
    }

    @Test(arguments: [("latest", false), (abcSHA512, true), ("sha256:" + String(repeating: "a", count: 64), true)])
    func pins(reference: String, pinned: Bool) throws {
        #expect(try RegistryClient.pin(reference, repository: "x")?.description == (pinned ? reference : nil))
    }

    @Test(arguments: ["md5:900150983cd24fb0d6963f7d28e17f72", "sha512:abc"])
    func unsupportedPinsAreRefused(reference: String) {
        #expect { try RegistryClient.pin(reference, repository: "x") } throws: { "\($0)".contains("x@\(reference)") }
    }

    static let sha256 = try! Digest(parsing: "sha256:" + String(repeating: "a", count: 64))

    @Test(arguments: [
        (Descriptor(mediaType: MediaType.ociConfig, digest: sha256, size: 10), [Descriptor(mediaType: MediaType.ociLayer, digest: try! Digest(parsing: abcSHA512), size: 3)], "uses sha512"),
        (Descriptor(mediaType: MediaType.ociConfig, digest: sha256, size: 10), [Descriptor(mediaType: MediaType.ociLayer, digest: sha256, size: -1)], "negative size"),
        (Descriptor(mediaType: MediaType.ociConfig, digest: sha256, size: 5 << 20), [], "more than the 4194304 allowed"),
    ])
    func pulledBlobsAreChecked(config: Descriptor, layers: [Descriptor], message: String) {
        #expect { try RegistryClient.checkBlobs(config: config, layers: layers, of: "r/x:1") } throws: { "\($0)".contains(message) }
    }

    @Test func sizesAddUpWithoutTrapping() {
        let huge = Descriptor(mediaType: MediaType.ociLayer, digest: Self.sha256, size: .max)
        #expect([huge, huge].totalSize == .max)
        #expect([Descriptor(mediaType: MediaType.ociLayer, digest: Self.sha256, size: 3), huge.with(size: -5)].totalSize == 3)
    }
}

private extension Descriptor {
    func with(size: Int64) -> Descriptor { Descriptor(mediaType: mediaType, digest: digest, size: size) }
}

/// A retried GET starts again at byte 0; the sink must still see each byte once.
struct BlobReceiverTests {
    final class Collected: @unchecked Sendable {
        // @unchecked: the test drives one receiver from one thread.
        var bytes: [UInt8] = []
    }

    func receiver(size: Int64) -> (BlobReceiver, Collected) {
        let collected = Collected()
        return (BlobReceiver(size: size, what: "blob b", write: { collected.bytes += $0 }), collected)
    }

    func feed(_ receiver: BlobReceiver, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try receiver.receive($0) }
    }

    @Test func aRetriedBodyIsNotAppendedTwice() throws {
        let (receiver, collected) = receiver(size: 6)
        receiver.restart()
        try feed(receiver, [1, 2, 3, 4])
        receiver.restart()
        try feed(receiver, [1, 2])
        try feed(receiver, [3, 4, 5])
        try feed(receiver, [6])
        try receiver.checkComplete()
        #expect(collected.bytes == [1, 2, 3, 4, 5, 6])
    }

    @Test func moreThanTheDescriptorSaysStopsTheDownload() throws {
        let (receiver, collected) = receiver(size: 3)
        #expect { try feed(receiver, [1, 2, 3, 4]) } throws: { "\($0)".contains("more than the 3 bytes") }
        #expect(collected.bytes.isEmpty, "nothing past the size reaches the sink")
    }

    @Test func lessThanTheDescriptorSaysIsAnError() throws {
        let (receiver, _) = receiver(size: 3)
        try feed(receiver, [1, 2])
        #expect { try receiver.checkComplete() } throws: { "\($0)".contains("sent 2 bytes, the descriptor says 3") }
    }
}

struct SecretFileTests {
    @Test func secretsAre0600AndFailuresLeaveNoTemporary() throws {
        let dir = FileManager.default.temporaryDirectory.appending(path: "private-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = umask(0)
        defer { umask(old) }
        try AtomicFile.replace("\(dir)/config.json", with: Array("{}".utf8), mode: 0o600)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: "\(dir)/config.json")[.posixPermissions] as? Int)
        #expect(mode == 0o600)

        // A directory where the file should be: the rename fails, and nothing is left behind.
        try FileManager.default.createDirectory(atPath: "\(dir)/taken.json/inside", withIntermediateDirectories: true)
        #expect { try AtomicFile.replace("\(dir)/taken.json", with: Array("{}".utf8), mode: 0o600) } throws: { "\($0)".contains("taken.json") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["config.json", "taken.json"])
    }
}
