import SQLite

/// A connection as the repositories speak to it, whichever engine is behind it: statements written once with
/// `?` parameters (`dialect` supplies the parts that differ), `SQLValue`s in and `Row`s out, and every failure a
/// `StorageError`. Like the connections it wraps, one thread at a time.
protocol SQLExecutor: AnyObject {
    var dialect: SQLDialect { get }

    /// Every row of one statement.
    func query(_ sql: String, _ values: [SQLValue]) throws(StorageError) -> [Row]

    /// The first row, or nil.
    func queryOne(_ sql: String, _ values: [SQLValue]) throws(StorageError) -> Row?

    /// The first column of the first row, or nil when there is no row.
    func scalar(_ sql: String, _ values: [SQLValue]) throws(StorageError) -> SQLValue?

    /// Runs one statement, discarding any rows; the rows it inserted, updated or deleted.
    @discardableResult
    func run(_ sql: String, _ values: [SQLValue]) throws(StorageError) -> Int

    /// `body` in a transaction (a savepoint when one is open): committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T
}
