import CSQLite

/// One SQLite connection. Not Sendable: use it from one thread at a time (the pool enforces this).
public final class SQLiteConnection {
    private var handle: OpaquePointer?
    private final class CachedStatement {
        let statement: Statement
        var lastUse: UInt64
        init(statement: Statement, lastUse: UInt64) { self.statement = statement; self.lastUse = lastUse }
    }

    private final class CommitHookBox {
        let hook: () -> Bool
        init(_ hook: @escaping () -> Bool) { self.hook = hook }
    }

    private final class WALHookBox {
        let hook: (SQLiteConnection, Int32) -> Void
        unowned let connection: SQLiteConnection
        init(_ hook: @escaping (SQLiteConnection, Int32) -> Void, connection: SQLiteConnection) {
            self.hook = hook
            self.connection = connection
        }
    }

    private var statementCache: [String: CachedStatement] = [:]
    private var useCounter: UInt64 = 0
    /// Kept alive here while SQLite holds a pointer to it.
    private var commitHook: CommitHookBox?
    /// Kept alive here while SQLite holds a pointer to it.
    private var walHook: WALHookBox?
    /// The most prepared statements kept per connection.
    public let statementCacheCapacity: Int
    /// The path (or URI) the connection was opened with.
    public let path: String

    /// Opens (and with `.create`, creates) the database at `path`.
    /// Extended result codes are always on so constraint kinds can be told apart,
    /// and SQLITE_DBCONFIG_DEFENSIVE is set so no SQL can corrupt the file via writable_schema.
    /// Double-quoted string literals are disabled: a misspelt "column" then fails instead of
    /// silently becoming a string.
    public init(path: String, flags: OpenFlags = [.readWrite, .create], busyTimeoutMilliseconds: Int32 = 5000,
                statementCacheCapacity: Int = 128) throws {
        self.path = path
        self.statementCacheCapacity = max(1, statementCacheCapacity)
        _ = SQLiteConnection.processSettings
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
            try check(sqlite3_create_function_v2(db, "casefold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                                 nil, sqliteCaseFold, nil, nil, nil))
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    /// The C handle, for the module's own calls into the library (nil once closed).
    var rawHandle: OpaquePointer? { handle }

    /// Process-wide settings applied once, before the first connection initialises the library. Nothing here reads
    /// SQLite's memory statistics (`sqlite3_memory_used`, `sqlite3_status`), so they are switched off: keeping them
    /// takes a global mutex around every allocation, measured at about 7 % of the writer thread's time. If the library
    /// was initialised already (another user in the process), the call fails harmlessly and the default stays.
    private static let processSettings: Void = {
        _ = csqlite_config_memstatus(0)
    }()

    /// Finalizes cached statements, then closes. Idempotent. Statements prepared with
    /// `prepare` and still referenced keep the file open until they are released
    /// (sqlite3_close_v2 turns the connection into a "zombie" until then).
    public func close() {
        for entry in statementCache.values { entry.statement.finalize() }
        statementCache.removeAll()
        if let handle {
            sqlite3_commit_hook(handle, nil, nil)
            sqlite3_wal_hook(handle, nil, nil)
            sqlite3_close_v2(handle)
        }
        commitHook = nil
        walHook = nil
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

    /// A statement from this connection's cache, keyed by exact SQL text, reset and with cleared bindings.
    /// The cache is bounded (`statementCacheCapacity`, least recently used goes first), so SQL that varies with
    /// the shape of a request (filters, sort keys) cannot grow it without limit; still bind values, never
    /// interpolate them. Do not hold a statement across another use of the same SQL text.
    public func cachedStatement(_ sql: String) throws -> Statement {
        useCounter &+= 1
        if let entry = statementCache[sql] {
            entry.lastUse = useCounter
            entry.statement.reset()
            entry.statement.clearBindings()
            return entry.statement
        }
        let statement = try prepare(sql, persistent: true)
        if statementCache.count >= statementCacheCapacity { evictLeastRecentlyUsed() }
        statementCache[sql] = CachedStatement(statement: statement, lastUse: useCounter)
        return statement
    }

    /// Finalizes the entry used longest ago. A linear scan: eviction is rare and the cache is small.
    private func evictLeastRecentlyUsed() {
        guard let oldest = statementCache.min(by: { $0.value.lastUse < $1.value.lastUse }) else { return }
        oldest.value.statement.finalize()
        statementCache[oldest.key] = nil
    }

    /// Number of statements currently cached (never more than `statementCacheCapacity`).
    public var cachedStatementCount: Int { statementCache.count }

    /// Finalizes every cached statement (for example after a schema change in another process).
    public func clearStatementCache() {
        for entry in statementCache.values { entry.statement.finalize() }
        statementCache.removeAll()
    }

    /// Installs a hook SQLite calls before each COMMIT; when it returns true the COMMIT fails and the transaction
    /// rolls back (`SQLITE_CONSTRAINT_COMMITHOOK`). For fault-injection tests; nil removes it.
    public func setCommitHook(_ hook: (() -> Bool)?) {
        guard let handle else { return }
        commitHook = hook.map(CommitHookBox.init)
        guard let box = commitHook else {
            sqlite3_commit_hook(handle, nil, nil)
            return
        }
        sqlite3_commit_hook(handle, { context in
            guard let context else { return 0 }
            return Unmanaged<CommitHookBox>.fromOpaque(context).takeUnretainedValue().hook() ? 1 : 0
        }, Unmanaged.passUnretained(box).toOpaque())
    }

    /// Installs a hook SQLite calls after each commit in WAL mode, on the committing thread, with the frames now in
    /// the WAL. It replaces SQLite's automatic checkpoint (`wal_autocheckpoint`), so the hook must keep the WAL short.
    public func setWALHook(_ hook: ((SQLiteConnection, Int32) -> Void)?) {
        guard let handle else { return }
        walHook = hook.map { WALHookBox($0, connection: self) }
        guard let box = walHook else {
            sqlite3_wal_hook(handle, nil, nil)
            return
        }
        sqlite3_wal_hook(handle, { context, _, _, frames in
            guard let context else { return SQLITE_OK }
            let box = Unmanaged<WALHookBox>.fromOpaque(context).takeUnretainedValue()
            box.hook(box.connection, frames)
            return SQLITE_OK
        }, Unmanaged.passUnretained(box).toOpaque())
    }

    /// Row id of the last successful INSERT on this connection.
    public var lastInsertRowID: Int64 { handle.map { sqlite3_last_insert_rowid($0) } ?? 0 }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    public var changes: Int { handle.map { Int(sqlite3_changes64($0)) } ?? 0 }

    /// True between BEGIN and COMMIT/ROLLBACK (SQLite is not in autocommit mode).
    public var isInTransaction: Bool { handle.map { sqlite3_get_autocommit($0) == 0 } ?? false }
}


/// `casefold(text)`: the text lowercased by Unicode's rules, not only ASCII's as SQLite's `lower()` is,
/// so a case-insensitive comparison holds for "É" and "é". NULL stays NULL; other types compare as their text.
private func sqliteCaseFold(_ context: OpaquePointer?, _ count: Int32, _ values: UnsafeMutablePointer<OpaquePointer?>?) {
    guard let value = values?[0], sqlite3_value_type(value) != SQLITE_NULL, let text = sqlite3_value_text(value) else {
        sqlite3_result_null(context)
        return
    }
    let length = Int(sqlite3_value_bytes(value))
    let folded = String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self).lowercased()
    var utf8 = folded.utf8CString
    utf8.withUnsafeMutableBufferPointer { buffer in
        sqlite3_result_text(context, buffer.baseAddress, Int32(buffer.count - 1), SQLITE_TRANSIENT)
    }
}
