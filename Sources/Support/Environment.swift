import Foundation

/// Where the user's files live, as the docker CLI and XDG look for them.
public enum UserDirectories {
    /// `$HOME` when set and non-empty, else the password database's home.
    public static func home(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    }
}
