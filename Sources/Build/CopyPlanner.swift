import Archive
import Dockerfile
import Foundation
import Support

/// One entry of a layer being planned: where it goes in the image and where it comes from.
struct LayerEntry: Sendable {
    var imagePath: String
    var item: SourceItem
}

/// The entries of one COPY/ADD layer, and the unpacked archives they read from, which must
/// stay on disk until the layer is written.
struct CopyPlan {
    var entries: [LayerEntry]
    var unpacked: [ExtractedTree]
}

/// Turns a COPY/ADD into the exact list of layer entries, with Docker's source and destination
/// rules: a directory source copies its contents, globs may match nothing, a file goes into a
/// destination ending in "/" under its own name.
struct CopyPlanner {
    let context: BuildContext
    let step: CopyStep
    let owner: (uid: Int, gid: Int)?
    /// Where ADD unpacks local tar archives.
    let scratchDirectory: String

    func plan() throws -> CopyPlan {
        var matched: [SourceItem] = []
        for source in step.sources {
            matched += try items(matching: source)
        }
        let destination = ImagePath.relative(step.destination)
        let intoDirectory = step.destinationIsDirectory || matched.count > 1
        var entries: [String: LayerEntry] = [:]
        var unpacked: [ExtractedTree] = []
        for item in matched {
            if step.isAdd, case .checkedFile(let path, let identity) = item.contents, Self.isArchiveName(item.name) {
                let tree = try ExtractedTree.unpack(tarball: path, identity: identity, contextPath: item.contextPath, parent: scratchDirectory)
                unpacked.append(tree)
                let archiveContext = tree.context
                for name in try archiveContext.children(of: "") {
                    guard let child = try archiveContext.item(at: name) else { continue }
                    try add(child, at: ImagePath.join(destination, name), from: archiveContext, into: &entries)
                }
                continue
            }
            switch item.kind {
            case .directory:
                try addTree(item, at: destination, from: context, into: &entries)
            case .file, .symlink:
                let path = intoDirectory ? ImagePath.join(destination, item.name) : destination
                entries[path] = LayerEntry(imagePath: path, item: applyOptions(item))
            }
        }
        let sorted = entries.values.sorted { Array($0.imagePath.utf8).lexicographicallyPrecedes(Array($1.imagePath.utf8)) }
        return CopyPlan(entries: sorted, unpacked: unpacked)
    }

    /// ADD unpacks local tar archives (compressed or not), as Docker does; remote URLs are refused earlier.
    static func isArchiveName(_ name: String) -> Bool {
        [".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst"].contains { name.hasSuffix($0) }
    }

    private func items(matching source: String) throws(BuildError) -> [SourceItem] {
        let path = try Self.contextRelative(source, root: context.rootDescription)
        guard PathPattern.hasMeta(path) else {
            guard let item = try context.item(at: path) else {
                throw BuildError("COPY source '\(source)' not found in \(context.rootDescription)",
                                 hint: "looked for \(context.rootDescription)/\(path); check the path, the build args that form it, and .dockerignore")
            }
            return [try followTopLevelSymlink(item)]
        }
        // A pattern that matches nothing copies nothing, as BuildKit does.
        var candidates = [""]
        for component in path.split(separator: "/").map(String.init) {
            var next: [String] = []
            for parent in candidates {
                let prefix = parent.isEmpty ? "" : parent + "/"
                if PathPattern.hasMeta(component) {
                    next += try context.children(of: parent).filter { PathPattern.matches(component, $0) }.map { prefix + $0 }
                } else if try context.item(at: prefix + component) != nil {
                    next.append(prefix + component)
                }
            }
            candidates = next
        }
        var items: [SourceItem] = []
        for path in candidates {
            if let item = try context.item(at: path) { items.append(item) }
        }
        return items
    }

    /// A source named directly that is a symlink is followed, as Docker does; symlinks inside a
    /// copied directory stay symlinks.
    private func followTopLevelSymlink(_ item: SourceItem, hops: Int = 0) throws(BuildError) -> SourceItem {
        guard case .symlink(let target) = item.kind else { return item }
        // A cycle (a -> b -> a) in a context or an image must end as an error, not a stack overflow.
        guard hops < 40 else { throw BuildError("COPY source '\(item.contextPath)': too many levels of symlinks in \(context.rootDescription)") }
        let resolved = try context.resolveLink(target, from: item.contextPath)
        guard let followed = try context.item(at: resolved) else {
            throw BuildError("COPY source '\(item.contextPath)' is a symlink to '\(target)', which does not exist in \(context.rootDescription)")
        }
        var result = try followTopLevelSymlink(followed, hops: hops + 1)
        result.contextPath = item.contextPath
        return result
    }

    private func addTree(_ directory: SourceItem, at imagePath: String, from context: BuildContext,
                         into entries: inout [String: LayerEntry]) throws(BuildError) {
        entries[imagePath] = LayerEntry(imagePath: imagePath, item: applyOptions(directory))
        let prefix = directory.contextPath.isEmpty ? "" : directory.contextPath + "/"
        for name in try context.children(of: directory.contextPath) {
            guard let child = try context.item(at: prefix + name) else { continue }
            try add(child, at: ImagePath.join(imagePath, name), from: context, into: &entries)
        }
    }

    private func add(_ item: SourceItem, at imagePath: String, from context: BuildContext,
                     into entries: inout [String: LayerEntry]) throws(BuildError) {
        switch item.kind {
        case .directory:
            try addTree(item, at: imagePath, from: context, into: &entries)
        case .symlink(let target):
            if !context.isUnpacked { _ = try Self.resolveLink(target, from: item.contextPath, root: context.rootDescription) }
            entries[imagePath] = LayerEntry(imagePath: imagePath, item: applyOptions(item))
        case .file:
            entries[imagePath] = LayerEntry(imagePath: imagePath, item: applyOptions(item))
        }
    }

    private func applyOptions(_ item: SourceItem) -> SourceItem {
        var item = item
        if let chmod = step.chmod, !item.isSymlink { item.mode = chmod }
        if let owner {
            item.uid = owner.uid
            item.gid = owner.gid
        }
        return item
    }

    /// `--chown` with numeric ids (or root); names are resolved before, from the image's /etc/passwd.
    static func owner(_ chown: String?) throws(BuildError) -> (uid: Int, gid: Int)? {
        guard let chown else { return nil }
        let parts = chown.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        func id(_ text: String) throws(BuildError) -> Int {
            if text == "root" { return 0 }
            guard let value = Int(text), value >= 0 else {
                throw BuildError("--chown=\(chown): '\(text)' is not a numeric id",
                                 hint: "write user[:group] with names from the image or numeric ids, e.g. --chown=185:0")
            }
            return value
        }
        let uid = try id(parts[0])
        return (uid, parts.count > 1 ? try id(parts[1]) : uid)
    }

    // MARK: - Paths

    /// A source path made relative to the context root; `..` may not climb out of it.
    static func contextRelative(_ source: String, root: String) throws(BuildError) -> String {
        var components: [Substring] = []
        for component in source.split(separator: "/") where component != "." {
            if component == ".." {
                guard !components.isEmpty else {
                    throw BuildError("COPY source '\(source)' leaves the build context \(root)",
                                     hint: "a build can only copy files inside its context; move the file into \(root)")
                }
                components.removeLast()
            } else {
                components.append(component)
            }
        }
        return components.joined(separator: "/")
    }

    /// Where a symlink inside the context points, as a context path; an absolute target or one
    /// that climbs out of the context is refused.
    static func resolveLink(_ target: String, from linkPath: String, root: String) throws(BuildError) -> String {
        let escape = BuildError("symlink '\(linkPath)' -> '\(target)' points outside the build context \(root)",
                                hint: "replace the symlink with the file it points to, or make it relative and inside the context")
        guard !target.hasPrefix("/") else { throw escape }
        let parent = linkPath.split(separator: "/").dropLast().joined(separator: "/")
        do { return try contextRelative(parent.isEmpty ? target : parent + "/" + target, root: root) } catch { throw escape }
    }
}
