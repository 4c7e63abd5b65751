import Testing
@testable import spark_image_tool

/// `--kind=NAME` and `--k3d=NAME` name the cluster with the flag.
struct ClusterNameArgumentsTests {
    @Test(arguments: [
        (["preload", "--kind=dev", "spark:1"], ["preload", "--kind", "--cluster", "dev", "spark:1"]),
        (["preload", "--k3d=ci", "--nodes", "a", "spark:1"], ["preload", "--k3d", "--cluster", "ci", "--nodes", "a", "spark:1"]),
        (["preload", "--kind", "spark:1"], ["preload", "--kind", "spark:1"]),
        // After `--` everything is an argument, and a flag that merely starts alike is another flag.
        (["preload", "--", "--kind=dev"], ["preload", "--", "--kind=dev"]),
        (["preload", "--kindly=x"], ["preload", "--kindly=x"]),
    ])
    func rewritten(_ arguments: [String], _ expected: [String]) {
        #expect(ClusterNameArguments.rewrite(arguments) == expected)
    }
}
