import OCI

/// Brings an image the store lacks into it, from wherever it lives (Distribution's Puller for
/// registries). Build and Preload receive one and never import the network themselves.
public protocol ImageFetching: Sendable {
    /// Stores one platform's image and returns the descriptor of its manifest.
    func pull(_ reference: ImageReference, platform: Platform) throws -> Descriptor
}
