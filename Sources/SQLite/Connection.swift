import CSQLite

/// One SQLite connection. Not Sendable: use it from one thread at a time (the pool enforces this).
public final class Connection {
    private var handle: OpaquePointer?
    private var statementCache: [String: Statement] = [:]
    /// The path (or URI) the connection was opened with.
    public let path: String

    /// Opens (and with `.create`, creates) the database at `path`.
    /// Extended result codes are always on so constraint kinds can be told apart,
    /// and SQLITE_DBCONFIG_DEFENSIVE is set so no SQL can corrupt the file via writable_schema.
    /// Double-quoted string literals are disabled: a misspelt "column" then fails instead of
    /// silently becoming a string.
    public init(path: String, flags: OpenFlags = [.readWrite, .create], busyTimeoutMilliseconds: Int32 = 5000) throws {
        self.path = path
        var db: OpaquePointer?
        let code = sqlite3_open_v2(path, &db, flags.rawValue | SQLITE_OPEN_EXRESCODE, nil)
        guard code == SQLITE_OK, let db else {
            let error = SQLiteError.from(db, code: code)
            // sqlite3_open_v2 hands back a handle even on failure; it must still be closed.
            sqlite3_close_v2(db)
            throw SQLiteError(code: error.code, message: "cannot open \(path): \(error.message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        do {
            try check(sqlite3_busy_timeout(db, busyTimeoutMilliseconds))
            try check(csqlite_db_config_defensive(db, 1))
            try check(csqlite_db_config_dqs(db, 0))
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    /// Finalizes cached statements, then closes. Idempotent. Statements prepared with
    /// `prepare` and still referenced keep the file open until they are released
    /// (sqlite3_close_v2 turns the connection into a "zombie" until then).
    public func close() {
        for statement in statementCache.values { statement.finalize() }
        statementCache.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    public var isClosed: Bool { handle == nil }

    func live(sql: String? = nil) throws -> OpaquePointer {
        guard let handle else { throw SQLiteError.closed(sql: sql) }
        return handle
    }

    private func check(_ code: Int32, sql: String? = nil) throws {
        guard code == SQLITE_OK else { throw SQLiteError.from(handle, code: code, sql: sql) }
    }

    /// Runs one or more `;`-separated statements without parameters (schema scripts, pragmas).
    public func execute(_ sql: String) throws {
        let db = try live(sql: sql)
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(db, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard code == SQLITE_OK else {
            let message = errorMessage.map { String(cString: $0) } ?? SQLiteError.codeName(code)
            throw SQLiteError(code: code, message: message, sql: sql)
        }
    }

    /// Compiles exactly one statement. Trailing text other than whitespace and comments is
    /// rejected, because sqlite3_prepare would silently ignore it.
    public func prepare(_ sql: String) throws -> Statement {
        try prepare(sql, persistent: false)
    }

    private func prepare(_ sql: String, persistent: Bool) throws -> Statement {
        let db = try live(sql: sql)
        var utf8 = Array(sql.utf8CString)
        return try utf8.withUnsafeMutableBufferPointer { buffer in
            let start = buffer.baseAddress!
            let length = Int32(buffer.count - 1)
            var stmt: OpaquePointer?
            var tail: UnsafePointer<CChar>?
            // PERSISTENT hints SQLite that a cached statement lives long, so it avoids lookaside memory.
            let prepareFlags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
            try check(sqlite3_prepare_v3(db, start, length, prepareFlags, &stmt, &tail), sql: sql)
            guard let stmt else { throw SQLiteError.misuse("no SQL statement to prepare", sql: sql) }
            let statement = Statement(handle: stmt, sql: sql)
            if let tail, tail.pointee != 0 {
                var extra: OpaquePointer?
                let remaining = length - Int32(UnsafePointer(start).distance(to: tail))
                let code = sqlite3_prepare_v3(db, tail, remaining, 0, &extra, nil)
                if extra != nil || code != SQLITE_OK {
                    sqlite3_finalize(extra)
                    throw SQLiteError.misuse("more than one statement given to prepare; use execute for scripts", sql: sql)
                }
            }
            return statement
        }
    }

    /// A statement from this connection's cache, keyed by exact SQL text, reset and with
    /// cleared bindings. Build SQL from constants only: interpolated values would grow the
    /// cache without bound. Do not hold it across another use of the same SQL text.
    public func cachedStatement(_ sql: String) throws -> Statement {
        if let statement = statementCache[sql] {
            statement.reset()
            statement.clearBindings()
            return statement
        }
        let statement = try prepare(sql, persistent: true)
        statementCache[sql] = statement
        return statement
    }

    /// Number of statements currently cached.
    public var cachedStatementCount: Int { statementCache.count }

    /// Finalizes every cached statement (for example after a schema change in another process).
    public func clearStatementCache() {
        for statement in statementCache.values { statement.finalize() }
        statementCache.removeAll()
    }

    /// Row id of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { handle.map { sqlite3_last_insert_rowid($0) } ?? 0 }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    public var changes: Int { handle.map { Int(sqlite3_changes64($0)) } ?? 0 }

    /// True between BEGIN and COMMIT/ROLLBACK (SQLite is not in autocommit mode).
    public var isInTransaction: Bool { handle.map { sqlite3_get_autocommit($0) == 0 } ?? false }
}
