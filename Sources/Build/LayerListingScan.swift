import Archive
import Foundation
import OCI
import Store
import Support

/// Reads the directories and symlinks of one base layer from its tar headers on a background
/// thread, so that the build does not wait for all of a 300 MB base to be inflated before its
/// first layer. Layer tars list their paths in walk order (a directory, then what is in it, by
/// name), so once the scan has passed a path, what it has seen of that path is the answer; the
/// parent directories of Spark's COPYs (/opt, /opt/spark) are answered within the first percent
/// of a Debian root file system.
///
/// An answer given early is a bet on that order. `finish()` reads to the end and says whether
/// every early answer held; a build that lost the bet is built again from the complete listing.
/// Unchecked: every mutable field is read and written only with `condition` locked (a Mutex has
/// no wait, and readers must wait for the scan to pass their path).
final class LayerListingScan: @unchecked Sendable {
    typealias Listing = [String: PathInfo]

    let digest: Digest
    private let condition = NSCondition()
    private var listing: Listing = [:]
    /// Every path but directories, for the layer's full listing (image checks read it too).
    private var nonDirectories: [String] = []
    /// The last path read, as components; nil before the first.
    private var position: [Substring]?
    private var done = false
    private var failure: (any Error)?
    private var answers: [String: PathInfo?] = [:]

    init(digest: Digest, store: Store) {
        self.digest = digest
        let path = store.blobPath(digest)
        Thread.detachNewThread { [self] in scan(path) }
    }

    /// What the layer holds at `path`, once the scan has reached it or the end.
    func info(at path: String) -> PathInfo? {
        let components = path.split(separator: "/")
        condition.lock()
        defer { condition.unlock() }
        while !done, position.map({ Self.walkOrder($0, components) }) ?? true { condition.wait() }
        let info = listing[path]
        if !done { answers[path] = info }
        return info
    }

    /// Waits for the end of the scan: the complete listing, and whether every early answer holds.
    func finish() throws -> (listing: LayerListing, answersHeld: Bool) {
        condition.lock()
        defer { condition.unlock() }
        while !done { condition.wait() }
        if let failure { throw failure }
        return (LayerListing(directoriesAndSymlinks: listing, nonDirectories: nonDirectories),
                answers.allSatisfy { path, info in listing[path] == info })
    }

    private func scan(_ path: String) {
        do {
            let reader = try TarReader(path: path)
            var batch: [(String, PathInfo)] = []
            var files: [String] = []
            var last = ""
            var count = 0
            while let entry = try reader.next() {
                last = ImagePath.relative(entry.path)
                count += 1
                let info = PathInfo(entry)
                if let info { batch.append((last, info)) }
                if info?.isSymlink != false { files.append(last) }
                // Publishing every few hundred entries keeps the lock out of the way.
                if count % 256 == 0 { publish(&batch, position: last) }
            }
            publish(&batch, position: last, done: true, nonDirectories: files)
        } catch {
            condition.lock()
            failure = error
            done = true
            condition.broadcast()
            condition.unlock()
        }
    }

    private func publish(_ batch: inout [(String, PathInfo)], position last: String, done: Bool = false, nonDirectories: [String] = []) {
        condition.lock()
        for (path, info) in batch { listing[path] = info }
        self.nonDirectories += nonDirectories
        position = last.split(separator: "/")
        self.done = done
        condition.broadcast()
        condition.unlock()
        batch.removeAll(keepingCapacity: true)
    }

    /// Whether `a` comes before `b` in walk order: component by component, bytewise, a parent
    /// before its children.
    static func walkOrder(_ a: [Substring], _ b: [Substring]) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            return Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
        }
        return a.count < b.count
    }
}
