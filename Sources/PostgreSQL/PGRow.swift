import CPostgreSQL

/// A materialised result row: values copied out of libpq, safe to keep and send across threads.
public struct PGRow: Sendable {
    private let columnTable: PGColumns
    /// The row's values, in column order.
    public let values: [PGValue]

    init(columns: PGColumns, values: [PGValue]) {
        self.columnTable = columns
        self.values = values
    }

    /// Column names in result order (shared by all rows of one query).
    public var columns: [String] { columnTable.names }

    /// The type OID of each column, in result order (`pg_type.oid`: 20 int8, 25 text, 1700 numeric, ...).
    public var columnTypes: [UInt32] { columnTable.types }

    public var count: Int { values.count }

    /// The value at a 0-based column position; out of range is a programming error, as with arrays.
    public subscript(_ index: Int) -> PGValue { values[index] }

    /// The value of the named column, or nil when the result has no such column.
    /// A present column holding SQL NULL gives `.null`, so the two cases stay distinguishable.
    public subscript(_ name: String) -> PGValue? {
        columnTable.index(of: name).map { values[$0] }
    }

    public func hasColumn(_ name: String) -> Bool { columnTable.index(of: name) != nil }

    /// The position of column `name`, to read many rows of one query by index instead of by name.
    public func columnIndex(_ name: String) -> Int? { columnTable.index(of: name) }

    // Typed accessors return nil for NULL, for an unknown column and for a value of another
    // kind, so `guard let` covers every way a column can be unusable. The one conversion they
    // make is from `numeric`, which arrives as exact decimal text (`sum(int8)` is numeric).

    public func int(_ name: String) -> Int64? { columnTable.index(of: name).flatMap(int) }
    public func int(_ index: Int) -> Int64? {
        switch values[index] {
        case .integer(let v): return v
        case .real(let v): return Int64(exactly: v)
        case .text(let v) where isNumeric(index): return Int64(v)
        default: return nil
        }
    }

    public func double(_ name: String) -> Double? { columnTable.index(of: name).flatMap(double) }
    public func double(_ index: Int) -> Double? {
        switch values[index] {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        case .text(let v) where isNumeric(index): return Double(v)
        default: return nil
        }
    }

    public func text(_ name: String) -> String? { columnTable.index(of: name).flatMap(text) }
    public func text(_ index: Int) -> String? {
        if case .text(let v) = values[index] { return v }
        return nil
    }

    public func bool(_ name: String) -> Bool? { columnTable.index(of: name).flatMap(bool) }
    public func bool(_ index: Int) -> Bool? {
        if case .boolean(let v) = values[index] { return v }
        return nil
    }

    public func bytes(_ name: String) -> [UInt8]? { columnTable.index(of: name).flatMap(bytes) }
    public func bytes(_ index: Int) -> [UInt8]? {
        if case .bytea(let v) = values[index] { return v }
        return nil
    }

    public func isNull(_ name: String) -> Bool { self[name]?.isNull ?? true }
    public func isNull(_ index: Int) -> Bool { values[index].isNull }

    /// Whether column `index` is `numeric`, whose values arrive as exact decimal text (`sum(int8)` is numeric).
    public func isNumeric(_ index: Int) -> Bool { columnTable.types[index] == PGTypeOID.numeric }
}
