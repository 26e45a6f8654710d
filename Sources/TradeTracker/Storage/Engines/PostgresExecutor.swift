import PostgreSQL
import SQLite

/// `SQLExecutor` over a PostgreSQL connection: `?` parameters renumbered by the dialect, values converted between
/// `SQLValue` and `PGValue` (bytea is a blob; a boolean reads as 0 or 1, as SQLite's TRUE and FALSE do; a
/// `numeric`, such as `sum()` of integers, reads as an integer when it is whole and a real otherwise, as SQLite's does).
final class PostgresExecutor: SQLExecutor {
    let db: PGConnection
    let dialect = SQLDialect.postgres
    /// Statements as the dialect renumbered them, so a repeated statement is scanned once. Repositories bind lists
    /// as one value, so the statements are a bounded set; the cap only guards against a caller that is not.
    private var statements: [String: String] = [:]
    private static let statementCapacity = 512

    init(_ db: PGConnection) {
        self.db = db
    }

    func query(_ sql: String, _ values: [SQLValue] = []) throws(StorageError) -> [Row] {
        let rows = try StorageError.only { try db.query(statement(sql), values.map(PostgresExecutor.value)) }
        guard let first = rows.first else { return [] }
        let numeric = (0..<first.count).filter(first.isNumeric)
        return Row.rows(columns: first.columns, values: rows.map { row in
            var values = row.values.map(PostgresExecutor.value)
            for index in numeric { values[index] = PostgresExecutor.number(values[index]) }
            return values
        })
    }

    func queryOne(_ sql: String, _ values: [SQLValue] = []) throws(StorageError) -> Row? {
        try query(sql, values).first
    }

    func scalar(_ sql: String, _ values: [SQLValue] = []) throws(StorageError) -> SQLValue? {
        guard let row = try queryOne(sql, values), row.count > 0 else { return nil }
        return row[0]
    }

    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws(StorageError) -> Int {
        try StorageError.only { try db.run(statement(sql), values.map(PostgresExecutor.value)) }
    }

    var isInTransaction: Bool { db.isInTransaction }

    /// The NOTIFY every instance's listener hears at COMMIT (nothing on a rollback), then the COMMIT. It refuses to
    /// COMMIT a transaction an earlier error aborted (PostgreSQL would roll it back and answer as if it had
    /// committed); a COMMIT whose answer was lost with the connection throws `.unreachable`. The search documents
    /// need nothing here: triggers keep them.
    func commitWrite(announcing seq: Int64?) throws {
        if let seq { try ChangeListener.announce(seq, in: self) }
        try StorageError.only { try db.commit() }
    }

    /// REPEATABLE READ: every statement of the transaction sees the snapshot its first one took.
    func snapshot<T>(_ body: () throws -> T) throws -> T {
        try StorageError.translating { try db.transaction(.repeatableRead, body) }
    }

    func transaction<T>(_ body: () throws -> T) throws -> T {
        try StorageError.translating { try db.transaction(nil, body) }
    }

    private func statement(_ sql: String) -> String {
        if let numbered = statements[sql] { return numbered }
        if statements.count >= PostgresExecutor.statementCapacity { statements.removeAll(keepingCapacity: true) }
        let numbered = dialect.statement(sql)
        statements[sql] = numbered
        return numbered
    }


    static func value(_ value: SQLValue) -> PGValue {
        switch value {
        case .null: return .null
        case .integer(let v): return .integer(v)
        case .real(let v): return .real(v)
        case .text(let v): return .text(v)
        case .blob(let v): return .bytea(v)
        }
    }

    /// A `numeric` column's decimal text as SQLite would give the number.
    private static func number(_ value: SQLValue) -> SQLValue {
        guard case .text(let text) = value else { return value }
        if let integer = Int64(text) { return .integer(integer) }
        return Double(text).map(SQLValue.real) ?? value
    }

    static func value(_ value: PGValue) -> SQLValue {
        switch value {
        case .null: return .null
        case .integer(let v): return .integer(v)
        case .real(let v): return .real(v)
        case .text(let v): return .text(v)
        case .bytea(let v): return .blob(v)
        case .boolean(let v): return .integer(v ? 1 : 0)
        }
    }
}
