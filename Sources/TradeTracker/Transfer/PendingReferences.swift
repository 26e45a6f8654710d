import SQLite

/// The `responds_to` references of an import that named a measure not stored yet. A measure may answer one that
/// comes later in the file (a tariff answering an export control, which an export writes after the tariffs, or a
/// measure later patched to answer a newer one), so such a reference is not refused at once: the import keeps its
/// transaction open until every pending reference is stored, and fails on the first one still missing at the end.
/// Used on the writer thread only, by the transaction it is attached to.
final class PendingReferences {
    struct Expected {
        let table: String
        let id: Int64
        /// Where the reference was read, in which resource's record (set by the import before each record), and
        /// what to say if it never arrives.
        let place: ImportPlace
        let resource: String?
        let problem: Problem.FieldError
    }

    private(set) var expected: [Expected] = []
    /// The line whose record is being written, and its resource; `expect` stamps them on what it records.
    var place = ImportPlace(file: nil, line: 0, pointerPrefix: "")
    var resource: String?

    var isEmpty: Bool { expected.isEmpty }

    func expect(table: String, id: Int64, _ problem: Problem.FieldError) {
        expected.append(Expected(table: table, id: id, place: place, resource: resource, problem: problem))
    }

    /// Drops the references whose records are stored now; true when none is left.
    func resolve(_ db: some SQLExecutor) throws -> Bool {
        expected = try expected.filter { try db.queryOne("SELECT 1 FROM \($0.table) WHERE id = ?", [.integer($0.id)]) == nil }
        return expected.isEmpty
    }
}
