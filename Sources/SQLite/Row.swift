/// A materialised result row: values copied out of SQLite, safe to keep and send across threads.
public struct Row: Sendable {
    private let table: ColumnTable
    /// The row's values, in column order.
    public let values: [SQLValue]

    init(table: ColumnTable, values: [SQLValue]) {
        self.table = table
        self.values = values
    }

    /// Column names in result order (shared by all rows of one query).
    public var columns: [String] { table.names }

    public var count: Int { values.count }

    /// The value at a 0-based column position; out of range is a programming error, as with arrays.
    public subscript(_ index: Int) -> SQLValue { values[index] }

    /// The value of the named column, or nil when the result has no such column.
    /// A present column holding SQL NULL gives `.null`, so the two cases stay distinguishable.
    public subscript(_ name: String) -> SQLValue? {
        table.index(of: name).map { values[$0] }
    }

    public func hasColumn(_ name: String) -> Bool { table.index(of: name) != nil }

    /// The position of column `name`, to read many rows of one query by index instead of by name.
    public func columnIndex(_ name: String) -> Int? { table.index(of: name) }

    // Typed accessors return nil for NULL, for an unknown column, and for a value of
    // another storage class, so `guard let` covers every way a column can be unusable.

    public func int(_ name: String) -> Int64? { self[name].flatMap(Row.int) }
    public func int(_ index: Int) -> Int64? { Row.int(values[index]) }

    public func double(_ name: String) -> Double? { self[name].flatMap(Row.double) }
    public func double(_ index: Int) -> Double? { Row.double(values[index]) }

    public func text(_ name: String) -> String? { self[name].flatMap(Row.text) }
    public func text(_ index: Int) -> String? { Row.text(values[index]) }

    public func bool(_ name: String) -> Bool? { self[name].flatMap(Row.bool) }
    public func bool(_ index: Int) -> Bool? { Row.bool(values[index]) }

    public func blob(_ name: String) -> [UInt8]? { self[name].flatMap(Row.blob) }
    public func blob(_ index: Int) -> [UInt8]? { Row.blob(values[index]) }

    public func isNull(_ name: String) -> Bool { self[name]?.isNull ?? true }
    public func isNull(_ index: Int) -> Bool { values[index].isNull }

    private static func int(_ value: SQLValue) -> Int64? {
        switch value {
        case .integer(let v): return v
        // A REAL column can hold 3.0 after arithmetic; only exact values convert.
        case .real(let v): return Int64(exactly: v)
        default: return nil
        }
    }

    private static func double(_ value: SQLValue) -> Double? {
        switch value {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        default: return nil
        }
    }

    private static func text(_ value: SQLValue) -> String? {
        if case .text(let v) = value { return v }
        return nil
    }

    private static func bool(_ value: SQLValue) -> Bool? {
        if case .integer(let v) = value { return v != 0 }
        return nil
    }

    private static func blob(_ value: SQLValue) -> [UInt8]? {
        if case .blob(let v) = value { return v }
        return nil
    }
}

/// Column names and their positions, built once per query and shared by its rows.
final class ColumnTable: Sendable {
    let names: [String]
    private let positions: [String: Int]

    init(names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        // With duplicate names (joins), the first column wins, as in SQLite's own lookup.
        for (index, name) in names.enumerated() where positions[name] == nil {
            positions[name] = index
        }
        self.positions = positions
    }

    func index(of name: String) -> Int? { positions[name] }
}

extension Row {
    /// The rows of one result whose values were read elsewhere (another engine's result, converted), sharing one
    /// column table as the rows of a query do; each entry of `values` is one row, in `columns` order.
    public static func rows(columns: [String], values: [[SQLValue]]) -> [Row] {
        let table = ColumnTable(names: columns)
        return values.map { Row(table: table, values: $0) }
    }
}
