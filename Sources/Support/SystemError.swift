import Foundation

/// The C library's words for an errno value (the current one by default).
public func errnoDescription(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
