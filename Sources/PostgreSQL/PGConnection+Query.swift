import CPostgreSQL

extension PGConnection {
    /// Runs one statement with `$1, $2, ...` parameters as a cached prepared statement and
    /// returns every row. The whole result is read into memory: page large reads with LIMIT.
    public func query(_ sql: String, _ values: [PGValue] = []) throws -> [PGRow] {
        try executePrepared(sql, values).rows()
    }

    /// The first row, or nil. The server still sends every row it finds: add `LIMIT 1`.
    public func queryOne(_ sql: String, _ values: [PGValue] = []) throws -> PGRow? {
        try query(sql, values).first
    }

    /// The first column of the first row, or nil when there is no row (e.g. `SELECT count(*) ...`).
    public func scalar(_ sql: String, _ values: [PGValue] = []) throws -> PGValue? {
        let rows = try query(sql, values)
        guard let row = rows.first, row.count > 0 else { return nil }
        return row[0]
    }

    /// Runs one statement, discarding any rows, and returns the rows it inserted, updated,
    /// deleted or selected (0 for statements that report none, such as CREATE TABLE).
    @discardableResult
    public func run(_ sql: String, _ values: [PGValue] = []) throws -> Int {
        try executePrepared(sql, values).affectedRows
    }

    /// Number of prepared statements in this connection's cache.
    public var cachedStatementCount: Int { statements.count }

    /// The most statements the cache holds before it deallocates the least recently used.
    public var statementCacheCapacity: Int { statements.capacity }

    /// Deallocates every cached statement (e.g. after a migration changed a table they read,
    /// which otherwise fails their next run with "cached plan must not change result type").
    public func clearStatementCache() {
        pendingDeallocations += statements.removeAll().map(\.name)
        if let handle { deallocatePending(handle) }
    }

    private func executePrepared(_ sql: String, _ values: [PGValue]) throws -> PGResult {
        let handle = try live(sql: sql)
        let parameters = try PGParameters(values, sql: sql)
        // The types are part of the key: the server fixes a parameter's type at PREPARE,
        // so `$1` bound once as NULL (inferred) and once as int8 are different statements.
        let key = parameters.types.map { String($0) }.joined(separator: ",") + "|" + sql
        let statement = try preparedStatement(for: key, sql: sql, parameters: parameters, handle)
        guard statement.parameterCount == values.count else {
            throw PGError.misuse("statement has \(statement.parameterCount) parameters but \(values.count) values were given", sql: sql)
        }
        // resultFormat 0: every column as text, converted by its type in PGResult.
        let raw = libpq.PQexecPrepared(handle, statement.name, parameters.count, parameters.values, parameters.lengths, parameters.formats, 0)
        do {
            return try complete(raw, sql: sql)
        } catch let error as PGError {
            // 0A000: a table the plan reads changed shape; 26000: something ran DEALLOCATE or
            // DISCARD behind our back. Either way the next call must prepare afresh.
            if error.sqlState == "0A000" || error.sqlState == "26000", let stale = statements.remove(for: key) {
                pendingDeallocations.append(stale.name)
            }
            throw error
        }
    }

    private func preparedStatement(for key: String, sql: String, parameters: PGParameters, _ handle: OpaquePointer) throws -> PGPreparedStatement {
        if let statement = statements.statement(for: key) { return statement }
        let expected = PGPlaceholders.count(in: sql)
        guard expected == Int(parameters.count) else {
            throw PGError.misuse("statement has \(expected) parameters but \(parameters.count) values were given", sql: sql)
        }
        deallocatePending(handle)
        statementCounter += 1
        let name = "tt_\(statementCounter)"
        _ = try complete(libpq.PQprepare(handle, name, sql, parameters.count, parameters.types), sql: sql)
        // The server's own count guards against a placeholder our scanner missed: executing
        // with too few values would fail as 08P01 "protocol violation", a connection-class code.
        let description = try complete(libpq.PQdescribePrepared(handle, name), sql: sql)
        let statement = PGPreparedStatement(name: name, parameterCount: Int(libpq.PQnparams(description.handle)))
        if let evicted = statements.insert(statement, for: key) {
            pendingDeallocations.append(evicted.name)
            deallocatePending(handle)
        }
        return statement
    }

    /// DEALLOCATEs evicted statements, but only outside a transaction block: inside one, a
    /// failing DEALLOCATE would abort the caller's transaction, and in an aborted one every
    /// command fails. Prepared statements are not transactional, so waiting changes nothing
    /// but when the server frees them.
    func deallocatePending(_ handle: OpaquePointer) {
        guard !pendingDeallocations.isEmpty, libpq.PQtransactionStatus(handle) == PQTRANS_IDLE else { return }
        let script = pendingDeallocations.map { "DEALLOCATE \($0)" }.joined(separator: "; ")
        pendingDeallocations.removeAll()
        // A failure here means the statement is already gone, or the connection is, and the
        // next command reports that; there is nothing to undo.
        libpq.PQclear(libpq.PQexec(handle, script))
    }
}
