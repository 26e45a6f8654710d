import HTTPServer
import SQLite

/// The SQL of one resource: read, list (keyset pages), insert, update and delete, each write with its
/// change-log row in the caller's transaction.
struct ResourceStore: Sendable {
    let spec: ResourceSpec

    func find(_ db: SQLite.Connection, id: Int64) throws -> Row? {
        try db.queryOne("SELECT * FROM \(spec.table) WHERE id = ?", [.integer(id)])
    }

    /// Whole rows for `ids` (any order).
    func find(_ db: SQLite.Connection, ids: [Int64]) throws -> [Row] {
        guard !ids.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        return try db.query("SELECT * FROM \(spec.table) WHERE id IN (\(placeholders))", ids.map(SQLValue.integer))
    }

    static func values(of row: Row, spec: ResourceSpec) -> RecordValues {
        var values: RecordValues = [:]
        for field in spec.fields { values[field.column] = row[field.column] ?? .null }
        return values
    }

    // MARK: lists

    /// One page: up to `limit` rows and, when more follow, the sort keys of the last one.
    /// `columns` is what to select besides the sort keys: `t.*` for whole rows, or `t.id, t.version` when the
    /// caller has the records' JSON cached.
    func list(_ db: SQLite.Connection, _ query: ListQuery, extraCondition: (sql: String, values: [SQLValue])? = nil,
              columns: String = "t.*") throws -> (rows: [Row], nextKeys: [SQLValue]?) {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let extraCondition {
            conditions.append(extraCondition.sql)
            bindings += extraCondition.values
        }
        for (filter, values) in query.filters {
            let placeholders = Array(repeating: "?", count: values.count).joined(separator: ", ")
            switch filter.kind {
            case .equals(let column): conditions.append("t.\(column) IN (\(placeholders))")
            case .jsonArrayContains(let column):
                conditions.append("EXISTS (SELECT 1 FROM json_each(t.\(column)) WHERE json_each.value IN (\(placeholders)))")
            case .subquery(let sql): conditions.append(sql.replacingOccurrences(of: "%VALUES%", with: placeholders))
            }
            for value in values {
                if case .id = filter.values { bindings.append(.integer(Int64(value) ?? 0)) } else { bindings.append(.text(value)) }
            }
        }
        if let search = query.search, let table = spec.searchTable {
            conditions.append("t.id IN (SELECT rowid FROM \(table) WHERE \(table) MATCH ?)")
            bindings.append(.text(Self.ftsQuery(search)))
        }
        if let range = spec.dateRange {
            if let from = query.from { conditions.append("t.\(range.end) >= ?"); bindings.append(.text(from)) }
            if let to = query.to { conditions.append("t.\(range.start) <= ?"); bindings.append(.text(to)) }
        }
        if let since = query.updatedSince {
            conditions.append("t.updated_at > ?")
            bindings.append(.text(since))
        }
        if let after = query.after {
            let (sql, values) = Self.keysetCondition(query.sort, after: after)
            conditions.append(sql)
            bindings += values
        }
        let keyColumns = query.sort.enumerated().map { "\($0.element.expression) AS _k\($0.offset)" }.joined(separator: ", ")
        let order = query.sort.map { $0.expression + ($0.descending ? " DESC" : "") }.joined(separator: ", ")
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(columns), \(keyColumns) FROM \(spec.table) AS t\(whereClause) ORDER BY \(order) LIMIT \(query.limit + 1)"
        var rows = try db.query(sql, bindings)
        var nextKeys: [SQLValue]? = nil
        if rows.count > query.limit {
            rows.removeLast()
            if let last = rows.last { nextKeys = (0..<query.sort.count).map { last["_k\($0)"] ?? .null } }
        }
        return (rows, nextKeys)
    }

    /// `(a > ?) OR (a = ? AND b < ?) OR …` for mixed sort directions.
    static func keysetCondition(_ sort: [ListQuery.SortKey], after: [SQLValue]) -> (String, [SQLValue]) {
        var alternatives: [String] = []
        var values: [SQLValue] = []
        for i in 0..<sort.count {
            var parts: [String] = []
            for j in 0..<i {
                parts.append("\(sort[j].expression) = ?")
                values.append(after[j])
            }
            parts.append("\(sort[i].expression) \(sort[i].descending ? "<" : ">") ?")
            values.append(after[i])
            alternatives.append("(" + parts.joined(separator: " AND ") + ")")
        }
        return ("(" + alternatives.joined(separator: " OR ") + ")", values)
    }

    /// Each word becomes a quoted prefix term, so user text can never be FTS5 syntax: `he lif` → `"he"* "lif"*`.
    static func ftsQuery(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace })
            .map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }
            .joined(separator: " ")
    }

    // MARK: writes

    /// Checks that every reference in `values` points at an existing record; problems name the field.
    func missingReferences(_ db: SQLite.Connection, _ values: RecordValues, only columns: Set<String>? = nil) throws -> [HTTPError.FieldError] {
        var problems: [HTTPError.FieldError] = []
        for field in spec.fields {
            guard case .reference(let reference) = field.kind, columns?.contains(field.column) ?? true,
                  case .integer(let id)? = values[field.column] else { continue }
            if try db.queryOne("SELECT 1 FROM \(reference.table) WHERE id = ?", [.integer(id)]) == nil {
                problems.append(.init(pointer: "/\(field.name)", message: "refers to a \(reference.singular) that does not exist (id \(id))"))
            }
        }
        return problems
    }

    func insert(_ db: SQLite.Connection, _ values: RecordValues, context: WriteContext) throws -> Row {
        let columns = spec.fields.map(\.column).filter { values[$0] != nil }
        let names = (columns + ["created_at", "updated_at", "version"]).joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: columns.count + 3).joined(separator: ", ")
        let bindings = columns.map { values[$0]! } + [.text(context.now), .text(context.now), .integer(1)]
        try db.run("INSERT INTO \(spec.table) (\(names)) VALUES (\(placeholders))", bindings)
        let id = db.lastInsertRowID
        try ChangeLog.append(db, resource: spec.name, recordID: id, action: .created,
                             changes: ChangeLog.diff(spec: spec, before: nil, after: values), context: context)
        guard let row = try find(db, id: id) else { throw SQLiteError(code: 1, message: "inserted row vanished") }
        return row
    }

    /// Writes the columns that differ, bumps `version` and `updated_at`; returns the new row (unchanged when nothing differs).
    func update(_ db: SQLite.Connection, id: Int64, old: RecordValues, new: RecordValues, context: WriteContext) throws -> Row {
        let changed = spec.fields.map(\.column).filter { old[$0] != new[$0] }
        if !changed.isEmpty {
            let sets = (changed.map { "\($0) = ?" } + ["updated_at = ?", "version = version + 1"]).joined(separator: ", ")
            try db.run("UPDATE \(spec.table) SET \(sets) WHERE id = ?", changed.map { new[$0]! } + [.text(context.now), .integer(id)])
            try ChangeLog.append(db, resource: spec.name, recordID: id, action: .updated,
                                 changes: ChangeLog.diff(spec: spec, before: old, after: new), context: context)
        }
        guard let row = try find(db, id: id) else { throw SQLiteError(code: 1, message: "updated row vanished") }
        return row
    }

    /// How many records of each kind point at `id`.
    func references(_ db: SQLite.Connection, id: Int64) throws -> [(String, Int64)] {
        var found: [(String, Int64)] = []
        for referrer in spec.referencedBy {
            let count = try db.scalar("SELECT count(*) FROM \(referrer.table) WHERE \(referrer.column) = ?", [.integer(id)])
            if case .integer(let n)? = count, n > 0 { found.append((Self.resourceName(ofTable: referrer.table), n)) }
        }
        return found
    }

    /// The API's name for the records of a table (`tariff_measures` → `tariff-measures`).
    static func resourceName(ofTable table: String) -> String {
        table == "round_participants" ? "round-participants" : table.replacingOccurrences(of: "_", with: "-")
    }

    func delete(_ db: SQLite.Connection, id: Int64, old: RecordValues, context: WriteContext) throws {
        try db.run("DELETE FROM \(spec.table) WHERE id = ?", [.integer(id)])
        try ChangeLog.append(db, resource: spec.name, recordID: id, action: .deleted,
                             changes: ChangeLog.diff(spec: spec, before: old, after: nil), context: context)
    }
}
