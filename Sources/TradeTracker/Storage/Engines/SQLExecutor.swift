import SQLite

/// A connection as the repositories speak to it, whichever engine is behind it: statements written once with
/// `?` parameters (`dialect` supplies the parts that differ), `SQLValue`s in and `Row`s out. Like the connections
/// it wraps, one thread at a time.
///
/// `SQLiteConnection` conforms as it is, so repository code generic over `some SQLExecutor` specializes to the
/// direct SQLite calls it made before there were two engines (no wrapper object, no error translated per call).
/// Failures are therefore the engine's own errors (`SQLiteError`; `PostgresExecutor` throws `StorageError`):
/// catch sites sort them with `StorageError(sorting:)`.
protocol SQLExecutor: AnyObject {
    var dialect: SQLDialect { get }

    /// Every row of one statement.
    func query(_ sql: String, _ values: [SQLValue]) throws -> [Row]

    /// The first row, or nil.
    func queryOne(_ sql: String, _ values: [SQLValue]) throws -> Row?

    /// The first column of the first row, or nil when there is no row.
    func scalar(_ sql: String, _ values: [SQLValue]) throws -> SQLValue?

    /// Runs one statement, discarding any rows; the rows it inserted, updated or deleted.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue]) throws -> Int

    /// Inside a transaction (PostgreSQL: one an error aborted, too).
    var isInTransaction: Bool { get }

    /// `body`'s reads all from one snapshot of the database (a page and the records it names).
    func snapshot<T>(_ body: () throws -> T) throws -> T

    /// `body` in a transaction (a savepoint when one is open): committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T

    /// COMMITs the writer's batch, after what the engine itself does last inside it: SQLite puts the records the
    /// transaction created into the search index (0006); PostgreSQL tells every instance's listener the new change
    /// log tip `announcing` (nil: the batch stored nothing). Throws unless the engine confirmed the COMMIT.
    func commitWrite(announcing seq: Int64?) throws
}

extension SQLExecutor {
    func query(_ sql: String) throws -> [Row] { try query(sql, []) }
    func queryOne(_ sql: String) throws -> Row? { try queryOne(sql, []) }
    func scalar(_ sql: String) throws -> SQLValue? { try scalar(sql, []) }
    @discardableResult
    func run(_ sql: String) throws -> Int { try run(sql, []) }
}
