/// One PostgreSQL value as the wrapper binds and reads it: a NULL or one of five Swift kinds.
///
/// Deliberately not `ExpressibleByNilLiteral`, for the reason `SQLValue` is not:
/// `row["x"] == nil` must mean "no such column", not "the column is NULL".
public enum PGValue: Sendable, Hashable {
    case null
    /// Binds as `int8`; read from `int2`, `int4`, `int8` and `oid` columns.
    case integer(Int64)
    /// Binds as `float8`; read from `float4` and `float8` columns.
    case real(Double)
    /// Binds as `text`; read from every type without a case of its own (varchar, date,
    /// timestamptz, uuid, json, numeric, ...), in PostgreSQL's own text form.
    case text(String)
    /// Binds as `bytea` (binary format); read from `bytea` columns.
    case bytea([UInt8])
    /// Binds as `bool`; read from `bool` columns.
    case boolean(Bool)

    /// True for `.null` only; an empty text or bytea is a value.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

extension PGValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension PGValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .real(value) }
}

extension PGValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
}

extension PGValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
}

extension PGValue: CustomStringConvertible {
    /// A readable form for logs and test failures; not SQL.
    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .text(let value): return "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
        case .bytea(let bytes): return "\\x" + PGByteaText.hex(bytes)
        case .boolean(let value): return value ? "true" : "false"
        }
    }
}
