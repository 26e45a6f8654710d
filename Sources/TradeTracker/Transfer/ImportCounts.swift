import JSON

/// Rows an import wrote, by resource, reported in the catalogue's order.
struct ImportCounts: Sendable, Equatable {
    private(set) var byResource: [String: Int] = [:]
    private(set) var total = 0

    mutating func add(_ resource: String, _ count: Int = 1) {
        byResource[resource, default: 0] += count
        total += count
    }

    mutating func add(_ other: ImportCounts) {
        for (name, count) in other.byResource { add(name, count) }
    }

    /// The resources with rows, in catalogue order.
    var ordered: [(String, Int)] {
        TransferCatalogue.names.compactMap { name in byResource[name].map { (name, $0) } }
    }

    /// `sources 2, rounds 1` (or `nothing`).
    var description: String {
        ordered.isEmpty ? "no rows" : ordered.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    }

    /// `{"sources": 2, "rounds": 1}`.
    func write(into json: inout JSONWriter) {
        json.beginObject()
        for (name, count) in ordered { json.member(name, count) }
        json.endObject()
    }
}
