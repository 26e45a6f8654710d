import SQLite

/// SQLite's connection is an executor as it is: the statements run as they are written.
extension SQLiteConnection: SQLExecutor {
    var dialect: SQLDialect { .sqlite }

    /// BEGIN IMMEDIATE: a transaction here is a write, and taking the write lock up front means it cannot fail
    /// half-way with SQLITE_BUSY when it upgrades.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try transaction(.immediate, body)
    }

    /// The cached statement the writer has always run: SQLite throws when its COMMIT fails.
    func commit() throws {
        try run("COMMIT TRANSACTION", [])
    }

    /// A deferred transaction on a WAL reader reads one snapshot from its first statement to its end.
    func snapshot<T>(_ body: () throws -> T) throws -> T {
        try transaction(.deferred, body)
    }
}
