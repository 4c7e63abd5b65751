import Dockerfile
import FuzzSupport

/// Parses the input as a Dockerfile and plans every stage, as a build does; errors are fine,
/// traps are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzInput(data, size), as: UTF8.self)
    do {
        let planner = BuildPlanner(
            dockerfile: try Dockerfile.parse(text, file: "Dockerfile"), buildArgs: ["SPARK_UID": "185"],
            platform: TargetPlatform(architecture: "amd64"))
        for stage in try planner.stages() { _ = try planner.evaluate(stage, base: BaseState(env: ["PATH=/bin"])) }
    } catch {}
    return 0
}

runLibFuzzer(fuzz)
