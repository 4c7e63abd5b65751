import Testing
@testable import Runtime

/// Two layers with the same diff_id (two RUNs that changed the same nothing) share one snapshot,
/// which overlayfs refuses to take twice (ELOOP): it is listed once, at its topmost place, where
/// it hides its deeper copy anyway.
@Test(arguments: [
    (["/s/b", "/s/a", "/s/b", "/s/base"], "/s/b:/s/a:/s/base"),
    (["/s/e", "/s/e", "/s/e", "/s/base"], "/s/e:/s/base"),
    (["/s/top", "/s/base"], "/s/top:/s/base"),
])
func overlayListsEachLowerDirectoryOnceAtItsTopmostPlace(_ lowerDirs: [String], _ expected: String) throws {
    let overlay = OverlayMount(lowerDirs: lowerDirs, upperDir: "/u", workDir: "/w", mergedDir: "/m")
    #expect(try overlay.options(inUserNamespace: false).hasPrefix("lowerdir=\(expected),upperdir="))
}
