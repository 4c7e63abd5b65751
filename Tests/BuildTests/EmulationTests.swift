@testable import Build
import OCI
import Testing

struct EmulationTests {
    static var foreign: String { Platform.host.architecture == "amd64" ? "arm64" : "amd64" }

    @Test(arguments: [
        (Platform.host.architecture, [] as [String], true),
        (foreign, [Emulation.handlers[foreign]!], true),
        (foreign, [], false),
        (foreign, ["qemu-mips"], false),
        ("mips64", ["qemu-mips64"], false),
    ])
    func aForeignRunNeedsRegisteredQEMU(_ architecture: String, _ registered: [String], _ runs: Bool) {
        let check = { try Emulation.check(Platform(os: "linux", architecture: architecture), runLine: 4, file: "Dockerfile",
                                          registered: registered.contains) }
        if runs {
            #expect(throws: Never.self) { try check() }
        } else {
            #expect { try check() } throws: { error in
                let message = (error as? BuildError)?.message ?? ""
                return message.hasPrefix("Dockerfile:4: RUN for linux/\(architecture) cannot run") && (error as? BuildError)?.hint?.contains("binfmt") == true
            }
        }
    }
}
