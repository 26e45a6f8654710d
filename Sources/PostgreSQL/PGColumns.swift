import CPostgreSQL

/// Column names, type OIDs and name positions of one result, built once and shared by its rows.
final class PGColumns: Sendable {
    let names: [String]
    let types: [Oid]
    private let positions: [String: Int]

    init(names: [String], types: [Oid]) {
        self.names = names
        self.types = types
        var positions: [String: Int] = [:]
        // With duplicate names (joins), the first column wins, as `SELECT`'s own output order suggests.
        for (index, name) in names.enumerated() where positions[name] == nil {
            positions[name] = index
        }
        self.positions = positions
    }

    func index(of name: String) -> Int? { positions[name] }
}
