import Foundation

/// The commit and remote of the git checkout a build's context is in, for the image's
/// `org.opencontainers.image.revision` and `.source`. Read from `.git` itself rather than by
/// running git: a checkout's own config can make git run programs (core.fsmonitor, hooks), and
/// a machine without git builds the same image. A dirty tree is still its HEAD commit, as
/// docker buildx records it.
struct GitCheckout: Equatable, Sendable {
    var revision: String
    /// The `origin` remote's URL (else the first remote's), without any credentials in it.
    var remote: String?

    /// The checkout `directory` is in (it or a parent holds `.git`); nil when there is none or
    /// it has no commit yet.
    static func containing(_ directory: String) -> GitCheckout? {
        var url = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let dotGit = url.appending(path: ".git").path
            if FileManager.default.fileExists(atPath: dotGit) { return read(dotGit: dotGit) }
            guard url.path != "/" else { return nil }
            url.deleteLastPathComponent()
        }
    }

    private static func read(dotGit: String) -> GitCheckout? {
        var gitDir = dotGit
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dotGit, isDirectory: &isDirectory), !isDirectory.boolValue {
            // A linked worktree or a submodule: `.git` is a file naming the real directory.
            guard let path = text(dotGit).flatMap(gitDirPointer) else { return nil }
            gitDir = resolve(path, against: (dotGit as NSString).deletingLastPathComponent)
        }
        // A linked worktree keeps its HEAD here, and refs and config in the common directory.
        let common = text("\(gitDir)/commondir").map { resolve(trimmed($0), against: gitDir) } ?? gitDir
        guard let head = text("\(gitDir)/HEAD"),
              let revision = revision(head: head, packedRefs: text("\(common)/packed-refs") ?? "",
                                      looseRef: { text("\(common)/\($0)") ?? text("\(gitDir)/\($0)") }) else { return nil }
        return GitCheckout(revision: revision, remote: text("\(common)/config").flatMap(remoteURL).map(withoutCredentials))
    }

    /// The commit HEAD names: itself when detached, else its branch through loose refs, then
    /// packed-refs; nil for a branch with no commit yet.
    static func revision(head: String, packedRefs: String, looseRef: (String) -> String?) -> String? {
        var value = trimmed(head)
        // A symbolic ref may name another symbolic ref; a loop ends here.
        for _ in 0..<5 {
            guard value.hasPrefix("ref:") else { return isObjectName(value) ? value : nil }
            let ref = trimmed(String(value.dropFirst(4)))
            guard !ref.contains(".."), ref.hasPrefix("refs/") else { return nil }
            if let loose = looseRef(ref) {
                value = trimmed(loose)
            } else {
                return packed(ref, in: packedRefs)
            }
        }
        return nil
    }

    /// `packed-refs` lines are `<sha> <ref>`; `#` starts its header, `^` a peeled tag.
    private static func packed(_ ref: String, in text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") && !line.hasPrefix("^") {
            let fields = line.split(separator: " ", maxSplits: 1)
            if fields.count == 2, trimmed(String(fields[1])) == ref, isObjectName(String(fields[0])) { return String(fields[0]) }
        }
        return nil
    }

    /// The URL of `[remote "origin"]` in a git config, else of the first remote that has one.
    static func remoteURL(config: String) -> String? {
        var section = ""
        var urls: [(remote: String, url: String)] = []
        for raw in config.split(whereSeparator: \.isNewline) {
            let line = trimmed(String(raw))
            if line.hasPrefix("[") {
                section = line
                continue
            }
            guard section.lowercased().hasPrefix("[remote \""), let equals = line.firstIndex(of: "=") else { continue }
            guard trimmed(String(line[..<equals])).lowercased() == "url" else { continue }
            var value = trimmed(String(line[line.index(after: equals)...]))
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            urls.append((section, value))
        }
        return (urls.first { $0.remote == "[remote \"origin\"]" } ?? urls.first)?.url
    }

    /// `https://user:token@host/x` → `https://host/x`: an image is public, a token must not be.
    /// An scp-like `git@host:path` names only a user, which stays.
    static func withoutCredentials(_ url: String) -> String {
        if let scheme = url.range(of: "://") {
            let rest = url[scheme.upperBound...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            guard let at = authority.lastIndex(of: "@") else { return url }
            return String(url[..<scheme.upperBound]) + rest[rest.index(after: at)...]
        }
        if let at = url.lastIndex(of: "@"), url[..<at].contains(":") { return String(url[url.index(after: at)...]) }
        return url
    }

    /// `gitdir: PATH`, as a worktree's or submodule's `.git` file says where its directory is.
    private static func gitDirPointer(_ text: String) -> String? {
        let line = trimmed(text)
        return line.hasPrefix("gitdir:") ? trimmed(String(line.dropFirst(7))) : nil
    }

    /// A SHA-1 or SHA-256 object name, in lower-case hex.
    private static func isObjectName(_ text: String) -> Bool {
        (text.count == 40 || text.count == 64) && text.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    private static func resolve(_ path: String, against directory: String) -> String {
        path.hasPrefix("/") ? path : "\(directory)/\(path)"
    }

    private static func text(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    private static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }
}
