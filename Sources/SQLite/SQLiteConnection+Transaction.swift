import CSQLite

extension SQLiteConnection {
    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it (or COMMIT) throws.
    /// Called while a transaction is already open, it nests as a SAVEPOINT instead, so a
    /// repository method can be composed into a larger write; `kind` then does not apply.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        if isInTransaction {
            return try savepoint(body)
        }
        try execute("BEGIN \(kind.rawValue) TRANSACTION")
        let result: T
        do {
            result = try body()
            try execute("COMMIT TRANSACTION")
        } catch {
            rollbackQuietly("ROLLBACK TRANSACTION")
            throw error
        }
        return result
    }

    private func savepoint<T>(_ body: () throws -> T) throws -> T {
        let name = "nested_transaction"
        try execute("SAVEPOINT \(name)")
        let result: T
        do {
            result = try body()
        } catch {
            // ROLLBACK TO keeps the savepoint open; RELEASE then drops it without undoing the outer work.
            rollbackQuietly("ROLLBACK TO SAVEPOINT \(name); RELEASE SAVEPOINT \(name)")
            throw error
        }
        try execute("RELEASE SAVEPOINT \(name)")
        return result
    }

    /// The caller's error is the one worth reporting. Some errors (SQLITE_FULL, SQLITE_IOERR,
    /// SQLITE_NOMEM) make SQLite roll back by itself, so a failing ROLLBACK is expected then.
    private func rollbackQuietly(_ sql: String) {
        guard isInTransaction else { return }
        try? execute(sql)
    }
}
