import JSON
import SQLite

/// The SQL of one resource: read by id, insert, update and delete, each write with its change-log row in the
/// caller's transaction. Lists go through `ListQuery.keyset` and `KeysetQuery`.
struct ResourceStore: Sendable {
    let spec: ResourceSpec

    /// SQLite's read and write paths call the connection directly (no executor, no error translation per call);
    /// the statement is the executor's below.
    func find(_ db: SQLiteConnection, id: Int64) throws -> Row? {
        try db.queryOne(findByID, [.integer(id)])
    }

    /// The record's whole row, on either engine.
    func find(_ db: some SQLExecutor, id: Int64) throws(StorageError) -> Row? {
        try db.queryOne(findByID, [.integer(id)])
    }

    private var findByID: String { "SELECT * FROM \(spec.table) WHERE id = ?" }

    /// Whole rows for `ids` (any order); the ids are bound as one list.
    func find(_ db: SQLiteConnection, ids: [Int64]) throws -> [Row] {
        guard !ids.isEmpty else { return [] }
        return try db.query("SELECT * FROM \(spec.table) WHERE id IN \(SQLList.placeholder)", [SQLList.ids(ids)])
    }

    /// The highest id the table has handed out, deleted records' included (AUTOINCREMENT's counter; 0 before the first).
    func highestIDHandedOut(_ db: SQLiteConnection) throws -> Int64 {
        if case .integer(let seq)? = try db.scalar(SQLDialect.sqlite.highestIDHandedOut(spec.table)) { return seq }
        return 0
    }

    /// Raises AUTOINCREMENT's counter to `id` (never lowers it): a restored export hands out no id its source
    /// database had handed out, deleted records' included.
    func retireIDs(through id: Int64, _ db: SQLiteConnection) throws {
        guard id > (try highestIDHandedOut(db)) else { return }
        try db.run("DELETE FROM sqlite_sequence WHERE name = ?", [.text(spec.table)])
        try db.run("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [.text(spec.table), .integer(id)])
    }

    func exists(_ db: SQLiteConnection, id: Int64) throws -> Bool {
        try db.queryOne("SELECT 1 FROM \(spec.table) WHERE id = ?", [.integer(id)]) != nil
    }

    static func values(of row: Row, spec: ResourceSpec) -> RecordValues {
        var values: RecordValues = [:]
        for field in spec.fields { values[field.column] = row[field.column] ?? .null }
        return values
    }

    /// Checks that every reference in `values` points at an existing record; problems name the field.
    func missingReferences(_ db: SQLiteConnection, _ values: RecordValues, only columns: Set<String>? = nil) throws -> [Problem.FieldError] {
        var problems: [Problem.FieldError] = []
        for field in spec.fields {
            guard case .reference(let reference) = field.kind, columns?.contains(field.column) ?? true,
                  case .integer(let id)? = values[field.column] else { continue }
            if try db.queryOne("SELECT 1 FROM \(reference.table) WHERE id = ?", [.integer(id)]) == nil {
                problems.append(.init(pointer: "/\(field.name)", message: "refers to \(English.withArticle(reference.singular)) that does not exist (id \(id))"))
            }
        }
        return problems
    }

    /// Inserts a record with its change-log row; its id. `stamp` keeps an imported record's id, timestamps and version.
    /// SQLite's write path: the connection directly, the id from `lastInsertRowID` (no RETURNING to step through).
    func insert(_ db: SQLiteConnection, _ values: RecordValues, stamp: RecordStamp = RecordStamp(), context: WriteContext) throws -> Int64 {
        let (sql, bindings) = insertStatement(values, stamp: stamp, now: context.now, dialect: .sqlite)
        try db.run(sql, bindings)
        let id = stamp.id ?? db.lastInsertRowID
        try ChangeLog.append(db, resource: spec.name, recordID: id, action: .created,
                             changesJSON: ChangeLog.diff(spec: spec, before: nil, after: values), context: context)
        return id
    }

    /// `insert` on either engine: the statement comes from the catalogue's fields and the engine's dialect, the id
    /// from RETURNING.
    func insert(_ db: some SQLExecutor, _ values: RecordValues, stamp: RecordStamp = RecordStamp(), context: WriteContext) throws(StorageError) -> Int64 {
        let (sql, bindings) = insertStatement(values, stamp: stamp, now: context.now, dialect: db.dialect)
        guard case .integer(let id)? = try db.scalar(sql + db.dialect.returning(["id"]), bindings) else {
            throw StorageError(unexpected: ResourceStoreError(message: "INSERT INTO \(spec.table) returned no id"))
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
    func update(_ db: SQLiteConnection, id: Int64, old: RecordValues, new: RecordValues, context: WriteContext) throws -> Row {
        let changed = spec.fields.map(\.column).filter { old[$0] != new[$0] }
        if !changed.isEmpty {
            let sets = (changed.map { "\($0) = ?" } + ["updated_at = ?", "version = version + 1"]).joined(separator: ", ")
            try db.run("UPDATE \(spec.table) SET \(sets) WHERE id = ?", changed.map { new[$0]! } + [.text(context.now), .integer(id)])
            try ChangeLog.append(db, resource: spec.name, recordID: id, action: .updated,
                                 changesJSON: ChangeLog.diff(spec: spec, before: old, after: new), context: context)
        }
        guard let row = try find(db, id: id) else { throw SQLiteError(code: 1, message: "updated row vanished") }
        return row
    }

    /// How many records of each kind point at `id`, by the referring resource's name.
    func references(_ db: SQLiteConnection, id: Int64) throws -> [(String, Int64)] {
        var found: [(String, Int64)] = []
        for referrer in spec.referencedBy {
            let count = try db.scalar("SELECT count(*) FROM \(referrer.table) WHERE \(referrer.condition)", referrer.bindings + [.integer(id)])
            if case .integer(let n)? = count, n > 0 { found.append((ResourceCatalogue.name(ofTable: referrer.table), n)) }
        }
        return found
    }

    func delete(_ db: SQLiteConnection, id: Int64, old: RecordValues, context: WriteContext) throws {
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
