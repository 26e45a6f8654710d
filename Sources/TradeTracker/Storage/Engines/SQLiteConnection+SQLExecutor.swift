import SQLite

/// SQLite's connection is an executor as it is: the statements run as they are written.
extension SQLiteConnection: SQLExecutor {
    var dialect: SQLDialect { .sqlite }

    /// BEGIN IMMEDIATE: a transaction here is a write, and taking the write lock up front means it cannot fail
    /// half-way with SQLITE_BUSY when it upgrades.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try transaction(.immediate, body)
    }

    /// The search index in one statement, then the COMMIT (cached statements both); SQLite throws when its COMMIT
    /// fails. Nobody else needs telling: the other readers of the file see the commit at once.
    func commitWrite(announcing seq: Int64?) throws {
        try run(SearchIndex.flushSQL, [])
        try run("COMMIT TRANSACTION", [])
    }

    /// A deferred transaction on a WAL reader reads one snapshot from its first statement to its end.
    func snapshot<T>(_ body: () throws -> T) throws -> T {
        try transaction(.deferred, body)
    }
}
