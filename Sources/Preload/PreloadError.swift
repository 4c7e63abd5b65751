import Support

public enum PreloadFailure {}

/// A preload failure that is not the daemon's or the store's own error.
public typealias PreloadError = ModuleError<PreloadFailure>
