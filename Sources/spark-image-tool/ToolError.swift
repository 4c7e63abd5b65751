import Archive
import Builder
import DockerEngine
import Dockerfile
import HTTP
import OCI
import Registry
import Spark
import Store

/// The errors whose messages are written for users: printed as they are, with exit status 1.
protocol ToolError: Error, CustomStringConvertible {}

extension BuildError: ToolError {}
extension DockerfileError: ToolError {}
extension SparkError: ToolError {}
extension StoreError: ToolError {}
extension ArchiveError: ToolError {}
extension OCIError: ToolError {}
extension RegistryError: ToolError {}
extension HTTPError: ToolError {}
extension DockerError: ToolError {}
