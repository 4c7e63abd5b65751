import Foundation

extension EngineClient {
    public struct ContainerSummary: Decodable, Sendable {
        public var Id: String
        /// With a leading slash, as the Engine API gives them: `/kind-control-plane`.
        public var Names: [String]
        public var Labels: [String: String]?
        public var State: String?

        /// The first name without its slash.
        public var name: String { Names.first.map { String($0.drop { $0 == "/" }) } ?? Id }
    }

    /// `GET /containers/json` with a label filter (`KEY` or `KEY=VALUE`): kind's node containers
    /// are `io.x-k8s.kind.cluster=NAME`. Stopped containers too, so the caller can say why a
    /// node cannot be reached.
    public func listContainers(label: String) throws -> [ContainerSummary] {
        try listContainers(filter: "label", label)
    }

    /// `GET /containers/json` with one filter (`label`, or `name`, which matches part of a name).
    public func listContainers(filter: String, _ value: String) throws -> [ContainerSummary] {
        let filters = try JSONSerialization.data(withJSONObject: [filter: [value]], options: [.sortedKeys])
        let query = "all=1&filters=\(Self.escapeQuery(String(decoding: filters, as: UTF8.self)))"
        return try decode([ContainerSummary].self, try send("GET", "/containers/json?\(query)"), action: "list containers by \(filter) \(value)")
    }
}
