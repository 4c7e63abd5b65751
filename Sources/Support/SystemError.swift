import Foundation

/// The C library's words for an errno value (the current one by default).
public func errnoDescription(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// A file's identity for caches that must not read its content: it changes whenever the content
/// may have (device, inode, size, mtime, ctime).
public func fileIdentity(_ info: stat) -> String {
    "\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec):\(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)"
}
