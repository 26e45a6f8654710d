import CSQLite

extension SQLiteConnection {
    /// Runs a cached statement with positional values and returns every row.
    public func query(_ sql: String, _ values: [SQLValue] = []) throws -> [Row] {
        try withCachedStatement(sql, values) { try $0.allRows() }
    }

    /// The first row, or nil; later rows of a read are not read. A write (`INSERT ... RETURNING`) runs to its end.
    public func queryOne(_ sql: String, _ values: [SQLValue] = []) throws -> Row? {
        try withCachedStatement(sql, values) { statement in
            guard try statement.step() else { return nil }
            let row = statement.row()
            try statement.finishIfWrite()
            return row
        }
    }

    /// The first column of the first row, or nil when there is no row (e.g. `SELECT count(*) ...`, or the id
    /// of `INSERT ... RETURNING id`).
    public func scalar(_ sql: String, _ values: [SQLValue] = []) throws -> SQLValue? {
        try withCachedStatement(sql, values) { statement in
            guard try statement.step() else { return nil }
            let value = statement.value(at: 0)
            try statement.finishIfWrite()
            return value
        }
    }

    /// Executes one statement with positional values, discarding any rows; the rows it inserted, updated or deleted.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        try withCachedStatement(sql, values) { statement in
            while try statement.step() {}
        }
        return changes
    }

    /// Like `query`, with `:name` parameters.
    public func query(_ sql: String, named values: [String: SQLValue]) throws -> [Row] {
        try withCachedStatement(sql, bind: { try $0.bind(named: values) }) { try $0.allRows() }
    }

    /// Like `run`, with `:name` parameters.
    public func run(_ sql: String, named values: [String: SQLValue]) throws {
        try withCachedStatement(sql, bind: { try $0.bind(named: values) }) { statement in
            while try statement.step() {}
        }
    }

    /// Always resets afterwards: a cached SELECT left mid-way would keep its read snapshot
    /// (and in WAL mode stop checkpoints from finishing) until its next use.
    private func withCachedStatement<T>(
        _ sql: String,
        bind: (Statement) throws -> Void,
        _ body: (Statement) throws -> T
    ) throws -> T {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try bind(statement)
        return try body(statement)
    }

    private func withCachedStatement<T>(_ sql: String, _ values: [SQLValue], _ body: (Statement) throws -> T) throws -> T {
        try withCachedStatement(sql, bind: { try $0.bind(values) }, body)
    }
}

extension SQLiteConnection {
    /// Copies this database, as one consistent snapshot, into a new file at `destination` with SQLite's online
    /// backup API (https://sqlite.org/backup.html). One `sqlite3_backup_step(-1)` copies every page under one read
    /// transaction, so writers on other connections go on meanwhile (WAL) and the copy is never half-old.
    public func backup(to destination: String) throws {
        let source = try live()
        let target = try SQLiteConnection(path: destination, flags: [.readWrite, .create])
        defer { target.close() }
        let targetHandle = try target.live()
        guard let backup = sqlite3_backup_init(targetHandle, "main", source, "main") else {
            throw SQLiteError.from(targetHandle, code: sqlite3_errcode(targetHandle))
        }
        let stepped = sqlite3_backup_step(backup, -1)
        let finished = sqlite3_backup_finish(backup)
        guard stepped == SQLITE_DONE else { throw SQLiteError.from(targetHandle, code: stepped) }
        guard finished == SQLITE_OK else { throw SQLiteError.from(targetHandle, code: finished) }
        // A backup is a file of its own: no WAL beside it.
        try target.execute("PRAGMA journal_mode = DELETE")
    }
}
