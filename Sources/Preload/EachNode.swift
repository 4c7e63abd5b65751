import Support

/// Runs `load` on every node, `jobs` nodes at a time, and gathers the results in the nodes'
/// order. A node that fails does not stop the others: its result carries the failure.
func eachNode(_ nodes: [String], jobs: Int,
              _ load: @escaping @Sendable (_ index: Int, _ result: inout ContainerdNodeResult) throws -> Void) -> [ContainerdNodeResult] {
    let results = Locked<[Int: ContainerdNodeResult]>([:])
    try? concurrently(Array(nodes.indices), width: jobs) { index in
        var result = ContainerdNodeResult(node: nodes[index], images: [], bytesSent: 0)
        do { try load(index, &result) } catch {
            result.failure = "\(error)"
        }
        let finished = result
        results.update { $0[index] = finished }
    }
    return nodes.indices.compactMap { results.value[$0] }
}
