import CPostgreSQL

extension PGConnection {
    /// True inside a transaction block, including one an error has aborted (`PQtransactionStatus`).
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let status = libpq.PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it (or COMMIT) throws.
    /// Called inside a transaction it nests as a SAVEPOINT, so a repository method can be
    /// composed into a larger write; `isolation` then does not apply.
    ///
    /// After any failed statement PostgreSQL aborts the whole transaction. A body that catches
    /// such an error and returns normally has therefore lost its work: COMMIT would silently
    /// roll back, so this throws 25P02 (in failed SQL transaction) instead.
    @discardableResult
    public func transaction<T>(_ isolation: PGIsolationLevel? = nil, _ body: () throws -> T) throws -> T {
        if isInTransaction {
            return try savepoint(body)
        }
        try execute(isolation.map { "BEGIN ISOLATION LEVEL \($0.rawValue)" } ?? "BEGIN")
        savepointDepth = 0
        let result: T
        do {
            result = try body()
            try commit()
        } catch {
            rollbackQuietly("ROLLBACK")
            if let handle { deallocatePending(handle) }
            throw error
        }
        if let handle { deallocatePending(handle) }
        return result
    }

    /// COMMITs the transaction open on this connection (one `transaction` did not begin: the writer's own batches),
    /// refusing one that an earlier error aborted, whose COMMIT PostgreSQL would answer with a silent ROLLBACK. It
    /// throws whenever the server did not confirm the COMMIT; a connection lost on the way leaves the outcome unknown.
    public func commit() throws {
        try throwIfAborted(after: "COMMIT")
        let commit = try executeScript("COMMIT")
        // Belt and braces with the check above: COMMIT of an aborted transaction answers ROLLBACK.
        if commit.commandTag == "ROLLBACK" { throw PGConnection.abortedError("COMMIT") }
    }

    private func savepoint<T>(_ body: () throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "tt_savepoint_\(savepointDepth)"
        try execute("SAVEPOINT \(name)")
        let result: T
        do {
            result = try body()
            try throwIfAborted(after: "RELEASE SAVEPOINT")
        } catch {
            // ROLLBACK TO also clears an aborted state; RELEASE then drops the savepoint,
            // and the outer transaction carries on with its own work intact.
            rollbackQuietly("ROLLBACK TO SAVEPOINT \(name); RELEASE SAVEPOINT \(name)")
            throw error
        }
        try execute("RELEASE SAVEPOINT \(name)")
        return result
    }

    private func throwIfAborted(after command: String) throws {
        guard let handle, libpq.PQtransactionStatus(handle) == PQTRANS_INERROR else { return }
        throw PGConnection.abortedError(command)
    }

    private static func abortedError(_ command: String) -> PGError {
        PGError(kind: .server, sqlState: "25P02",
                message: "the transaction was aborted by an earlier error that was caught inside it; \(command) would have discarded its work",
                sql: command)
    }

    /// The caller's error is the one worth reporting; on a lost connection there is nothing to roll back.
    private func rollbackQuietly(_ sql: String) {
        guard isInTransaction else { return }
        try? execute(sql)
    }
}
