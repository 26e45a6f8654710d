import SQLite

/// One sort key of a keyset walk: its public name (for `sort=` and cursors), the SQL expression it orders by, and
/// its direction.
struct SortKey: Sendable {
    let name: String
    let expression: String
    let descending: Bool

    init(_ name: String, _ expression: String, descending: Bool = false) {
        self.name = name
        self.expression = expression
        self.descending = descending
    }
}

/// The one keyset pager every list uses (resources, sub-lists, history, timeline, the change feed): rows after the
/// cursor's sort keys, in sort order, `limit + 1` fetched so a following page is known without another query.
/// The limit is bound, never interpolated, and the sort keys come back as `_k0…` columns so the next cursor can be
/// made from the last row whatever the row's shape.
struct KeysetQuery {
    /// What to select besides the sort keys (`t.*`, `t.id, t.version`, …).
    var columns: String
    /// The FROM clause: a table with its alias, or a subquery (`(SELECT …) AS e`).
    var from: String
    var conditions: [String] = []
    var bindings: [SQLValue] = []
    var sort: [SortKey]
    /// Sort-key values of the last row already served; nil on the first page.
    var after: [SQLValue]? = nil
    var limit: Int

    /// Adds a condition with its bound values.
    mutating func require(_ condition: String, _ values: [SQLValue] = []) {
        conditions.append(condition)
        bindings += values
    }

    /// The statement; ORDER BY places NULL keys first in ascending order on both engines (`SQLDialect.orderTerm`).
    func sql(_ dialect: SQLDialect) -> String {
        var conditions = self.conditions
        if after != nil { conditions.append(Self.keysetCondition(sort)) }
        let keyColumns = sort.enumerated().map { "\($0.element.expression) AS _k\($0.offset)" }.joined(separator: ", ")
        let order = sort.map { dialect.orderTerm($0.expression, descending: $0.descending) }.joined(separator: ", ")
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return "SELECT \(columns), \(keyColumns) FROM \(from)\(whereClause) ORDER BY \(order) LIMIT ?"
    }

    /// `(a > ?) OR (a = ? AND b < ?) OR …` for mixed sort directions; binds `after` as `afterBindings` orders it.
    static func keysetCondition(_ sort: [SortKey]) -> String {
        var alternatives: [String] = []
        for i in 0..<sort.count {
            var parts = (0..<i).map { "\(sort[$0].expression) = ?" }
            parts.append("\(sort[i].expression) \(sort[i].descending ? "<" : ">") ?")
            alternatives.append("(" + parts.joined(separator: " AND ") + ")")
        }
        return "(" + alternatives.joined(separator: " OR ") + ")"
    }

    private var afterBindings: [SQLValue] {
        guard let after else { return [] }
        var values: [SQLValue] = []
        for i in 0..<sort.count { values += after[0..<i] + [after[i]] }
        return values
    }

    /// One page: at most `limit` rows and, when more follow, the sort keys of the last one.
    func fetch(_ db: some SQLExecutor) throws -> KeysetPage {
        var rows = try db.query(sql(db.dialect), bindings + afterBindings + [.integer(Int64(limit + 1))])
        guard rows.count > limit else { return KeysetPage(rows: rows, nextKeys: nil) }
        rows.removeLast()
        let last = rows[rows.count - 1]
        return KeysetPage(rows: rows, nextKeys: (0..<sort.count).map { last["_k\($0)"] ?? .null })
    }
}

/// A page of a keyset walk.
struct KeysetPage {
    let rows: [Row]
    /// The sort keys to continue after; nil on the last page.
    let nextKeys: [SQLValue]?
}
