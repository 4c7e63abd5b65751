import Foundation
import OCI
import Support

/// A tag in the store and the manifest (or index) it points at.
public struct TaggedImage: Sendable, Equatable {
    public var reference: ImageReference
    public var descriptor: Descriptor
}

extension Store {
    /// Every tag in `index.json`, sorted by reference.
    public func tags() throws(StoreError) -> [TaggedImage] {
        try readIndex().manifests.compactMap { descriptor in
            guard let name = descriptor.annotations?[Annotation.containerdImageName] ?? descriptor.annotations?[Annotation.refName],
                  let reference = try? ImageReference(parsing: name) else { return nil }
            // The annotations name the tag, not the content: callers get the plain descriptor.
            var content = descriptor
            content.annotations = nil
            return TaggedImage(reference: reference, descriptor: content)
        }.sorted { $0.reference.description < $1.reference.description }
    }

    public func resolve(_ reference: ImageReference) throws(StoreError) -> Descriptor? {
        try tags().first { $0.reference == reference }?.descriptor
    }

    /// Points `reference` at `descriptor`, replacing whatever it pointed at before.
    public func tag(_ descriptor: Descriptor, as reference: ImageReference) throws(StoreError) {
        try updateIndex { index in
            index.manifests.removeAll { Self.names($0, reference) }
            var tagged = descriptor
            tagged.annotations = [Annotation.refName: reference.description, Annotation.containerdImageName: reference.description]
            index.manifests.append(tagged)
        }
    }

    /// Removes a tag; returns false if there was none. Blobs stay until `gc`.
    public func untag(_ reference: ImageReference) throws(StoreError) -> Bool {
        var removed = false
        try updateIndex { index in
            let before = index.manifests.count
            index.manifests.removeAll { Self.names($0, reference) }
            removed = index.manifests.count != before
        }
        return removed
    }

    func readIndex() throws(StoreError) -> ImageIndex {
        let path = "\(root)/index.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw .io(path, "cannot read") }
        do { return try CanonicalJSON.decode(ImageIndex.self, from: data) } catch {
            throw .notALayout(root, reason: "index.json is not a valid image index: \(error)")
        }
    }

    /// Read-modify-write of index.json under an exclusive lock, so concurrent builds keep every tag.
    func updateIndex(_ change: (inout ImageIndex) -> Void) throws(StoreError) {
        let lockPath = "\(root)/index.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(lockPath, errnoDescription()) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw .io(lockPath, errnoDescription()) }
        let before = try readIndex()
        var index = before
        change(&index)
        index.manifests.sort { ($0.annotations?[Annotation.refName] ?? "") < ($1.annotations?[Annotation.refName] ?? "") }
        // A rebuild that changed nothing tags the same manifest again: no write, no fsync.
        guard index != before else { return }
        do { try writeAtomically(CanonicalJSON.encode(index), to: "\(root)/index.json") } catch let error as StoreError {
            throw error
        } catch { throw .io("\(root)/index.json", "\(error)") }
    }

    private static func names(_ descriptor: Descriptor, _ reference: ImageReference) -> Bool {
        let name = descriptor.annotations?[Annotation.containerdImageName] ?? descriptor.annotations?[Annotation.refName]
        return name.flatMap { try? ImageReference(parsing: $0) } == reference
    }
}
