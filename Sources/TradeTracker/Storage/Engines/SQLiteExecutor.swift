import SQLite

/// `SQLExecutor` over an SQLite connection: the statements run as they are written.
final class SQLiteExecutor: SQLExecutor {
    let db: SQLiteConnection
    let dialect = SQLDialect.sqlite

    init(_ db: SQLiteConnection) {
        self.db = db
    }

    func query(_ sql: String, _ values: [SQLValue] = []) throws(StorageError) -> [Row] {
        try StorageError.only { try db.query(sql, values) }
    }

    func queryOne(_ sql: String, _ values: [SQLValue] = []) throws(StorageError) -> Row? {
        try StorageError.only { try db.queryOne(sql, values) }
    }

    func scalar(_ sql: String, _ values: [SQLValue] = []) throws(StorageError) -> SQLValue? {
        try StorageError.only { try db.scalar(sql, values) }
    }

    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws(StorageError) -> Int {
        try StorageError.only {
            try db.run(sql, values)
            return db.changes
        }
    }

    /// BEGIN IMMEDIATE: a transaction here is a write, and taking the write lock up front means it cannot fail
    /// half-way with SQLITE_BUSY when it upgrades.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try StorageError.translating { try db.transaction(.immediate, body) }
    }
}
