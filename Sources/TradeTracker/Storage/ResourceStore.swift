import JSON
import SQLite

/// The SQL of one resource: read by id, insert, update and delete, each write with its change-log row in the
/// caller's transaction. Lists go through `ListQuery.keyset` and `KeysetQuery`.
struct ResourceStore: Sendable {
    let spec: ResourceSpec

    /// The record's whole row, on either engine.
    func find(_ db: some SQLExecutor, id: Int64) throws -> Row? {
        try db.queryOne("SELECT * FROM \(spec.table) WHERE id = ?", [.integer(id)])
    }

    /// Whole rows for `ids` (any order); the ids are bound as one list.
    func find(_ db: some SQLExecutor, ids: [Int64]) throws -> [Row] {
        guard !ids.isEmpty else { return [] }
        return try db.query("SELECT * FROM \(spec.table) WHERE id IN \(db.dialect.boundList(integers: true))", [SQLList.ids(ids)])
    }

    /// The highest id the table has handed out, deleted records' included (AUTOINCREMENT's counter or the identity sequence; 0 before the first).
    func highestIDHandedOut(_ db: some SQLExecutor) throws -> Int64 {
        if case .integer(let seq)? = try db.scalar(db.dialect.highestIDHandedOut(spec.table)) { return seq }
        return 0
    }

    /// Raises the id counter (AUTOINCREMENT's, or the identity sequence) to `id`, never lowering it: a restored export
    /// hands out no id its source database had handed out, deleted records' included. On PostgreSQL it always runs:
    /// `highestIDHandedOut` counts the imported rows themselves there, but the sequence must still move past them.
    func retireIDs(through id: Int64, _ db: some SQLExecutor) throws {
        guard id > (try highestIDHandedOut(db)) || !db.dialect.explicitIDsRaiseTheCounter else { return }
        try Self.raiseIDCounter(spec.table, to: id, db)
    }

    /// The counter of `table` raised to `id` (never lowered; 0, no id yet, leaves it: a sequence starts at 1).
    static func raiseIDCounter(_ table: String, to id: Int64, _ db: some SQLExecutor) throws {
        guard id >= 1 else { return }
        for statement in db.dialect.retireIDs(table) { try db.run(statement, [.integer(id)]) }
    }

    func exists(_ db: some SQLExecutor, id: Int64) throws -> Bool {
        try db.queryOne("SELECT 1 FROM \(spec.table) WHERE id = ?", [.integer(id)]) != nil
    }

    static func values(of row: Row, spec: ResourceSpec) -> RecordValues {
        var values: RecordValues = [:]
        for field in spec.fields { values[field.column] = row[field.column] ?? .null }
        return values
    }

    /// Checks that every reference in `values` points at an existing record; problems name the field.
    func missingReferences(_ db: some SQLExecutor, _ values: RecordValues, only columns: Set<String>? = nil) throws -> [Problem.FieldError] {
        var problems: [Problem.FieldError] = []
        for field in spec.fields {
            guard case .reference(let reference) = field.kind, columns?.contains(field.column) ?? true,
                  case .integer(let id)? = values[field.column] else { continue }
            if try db.queryOne("SELECT 1 FROM \(reference.table) WHERE id = ?", [.integer(id)]) == nil {
                problems.append(Self.missingReference(field, reference, id: id))
            }
        }
        return problems
    }

    static func missingReference(_ field: Field, _ reference: Reference, id: Int64) -> Problem.FieldError {
        .init(pointer: "/\(field.name)", message: "refers to \(English.withArticle(reference.singular)) that does not exist (id \(id))")
    }

    /// A foreign key's refusal as the checks above answer it. The checks read before the write; on PostgreSQL another
    /// instance may delete a referenced record, or add a referrer, after them, and only the foreign key sees it:
    /// on an insert or update a 422 naming the field (as `missingReferences`), on a delete a 409 (as `references`).
    func answeringForeignKeys<T>(_ values: RecordValues?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as StorageError {
            guard case .foreignKeyViolation(let detail) = error.kind else { throw error }
            if let values {
                // "Key (negotiation_id)=(7) is not present in table "negotiations"."
                for field in spec.fields where field.column == StorageError.keyColumns(detail) {
                    guard case .reference(let reference) = field.kind, case .integer(let id)? = values[field.column] else { continue }
                    throw APIError.validation([Self.missingReference(field, reference, id: id)])
                }
                throw error
            }
            // "Key (id)=(7) is still referenced from table "rounds"."
            let table = detail?.split(separator: "\"").dropFirst().first.map(String.init)
            let referrer = table.map { ResourceCatalogue.name(ofTable: $0).replacingOccurrences(of: "-", with: " ") } ?? "other records"
            throw APIError.conflict("referenced", "this \(spec.singular) is still referenced by \(referrer) written meanwhile; delete or re-point those first")
        }
    }

    /// Inserts a record with its change-log row; its id. `stamp` keeps an imported record's id, timestamps and version.
    /// The statement comes from the catalogue's fields and the engine's dialect; the id on SQLite from
    /// `lastInsertRowID` (no RETURNING to step through on its write path), on PostgreSQL from RETURNING.
    func insert(_ db: some SQLExecutor, _ values: RecordValues, stamp: RecordStamp = RecordStamp(), context: WriteContext) throws -> Int64 {
        let (sql, bindings) = insertStatement(values, stamp: stamp, now: context.now, dialect: db.dialect)
        let id: Int64
        if let sqlite = db as? SQLiteConnection {
            try sqlite.run(sql, bindings)
            id = stamp.id ?? sqlite.lastInsertRowID
        } else {
            guard case .integer(let returned)? = try db.scalar(sql + db.dialect.returning(["id"]), bindings) else {
                throw StorageError(unexpected: ResourceStoreError(message: "INSERT INTO \(spec.table) returned no id"))
            }
            id = returned
        }
        try ChangeLog.append(db, resource: spec.name, recordID: id, action: .created,
                             changesJSON: ChangeLog.diff(spec: spec, before: nil, after: values), context: context)
        return id
    }

    /// The INSERT of `values` (with `stamp`'s columns) and its bindings, for both `insert`s.
    private func insertStatement(_ values: RecordValues, stamp: RecordStamp, now: String,
                                 dialect: SQLDialect) -> (sql: String, bindings: [SQLValue]) {
        // Built by appending: this runs for every record of an import, where joined arrays showed in profiles.
        var sql = "INSERT INTO \(spec.table) ("
        var bindings: [SQLValue] = []
        bindings.reserveCapacity(spec.fields.count + 4)
        if let id = stamp.id {
            sql += "id, "
            bindings.append(.integer(id))
        }
        for field in spec.fields {
            guard let value = values[field.column] else { continue }
            sql += field.column
            sql += ", "
            bindings.append(value)
        }
        let (createdAt, updatedAt, version) = stamp.columns(now: now)
        bindings += [.text(createdAt), .text(updatedAt), .integer(version)]
        sql += "created_at, updated_at, version) VALUES ("
        if dialect.castsJSONParameters {
            // A second pass only where a JSON column's parameter differs (PostgreSQL's ?::json).
            if stamp.id != nil { sql += "?, " }
            for field in spec.fields where values[field.column] != nil {
                sql += dialect.parameter(for: field)
                sql += ", "
            }
            sql += "?, ?, ?)"
        } else {
            sql += "?"
            for _ in 1..<bindings.count { sql += ", ?" }
            sql += ")"
        }
        return (sql, bindings)
    }

    /// Writes the columns that differ, bumps `version` and `updated_at`; returns the new row (unchanged when nothing differs).
    func update(_ db: some SQLExecutor, id: Int64, old: RecordValues, new: RecordValues, context: WriteContext) throws -> Row {
        let changed = spec.fields.filter { old[$0.column] != new[$0.column] }
        if !changed.isEmpty {
            let sets = (changed.map { "\($0.column) = \(db.dialect.parameter(for: $0))" } + ["updated_at = ?", "version = version + 1"])
                .joined(separator: ", ")
            try db.run("UPDATE \(spec.table) SET \(sets) WHERE id = ?", changed.map { new[$0.column]! } + [.text(context.now), .integer(id)])
            try ChangeLog.append(db, resource: spec.name, recordID: id, action: .updated,
                                 changesJSON: ChangeLog.diff(spec: spec, before: old, after: new), context: context)
        }
        guard let row = try find(db, id: id) else { throw ResourceStoreError(message: "updated row vanished") }
        return row
    }

    /// How many records of each kind point at `id`, by the referring resource's name.
    func references(_ db: some SQLExecutor, id: Int64) throws -> [(String, Int64)] {
        var found: [(String, Int64)] = []
        for referrer in spec.referencedBy {
            let count = try db.scalar("SELECT count(*) FROM \(referrer.table) WHERE \(referrer.condition(db.dialect))", referrer.bindings + [.integer(id)])
            if case .integer(let n)? = count, n > 0 { found.append((ResourceCatalogue.name(ofTable: referrer.table), n)) }
        }
        return found
    }

    func delete(_ db: some SQLExecutor, id: Int64, old: RecordValues, context: WriteContext) throws {
        try db.run("DELETE FROM \(spec.table) WHERE id = ?", [.integer(id)])
        try ChangeLog.append(db, resource: spec.name, recordID: id, action: .deleted,
                             changesJSON: ChangeLog.diff(spec: spec, before: old, after: nil), context: context)
    }
}

/// A statement that succeeded without the result it must have.
struct ResourceStoreError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
