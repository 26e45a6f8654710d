import CSQLite

/// A prepared statement owned by one `SQLiteConnection`; use it only on that connection's thread.
public final class Statement {
    private var handle: OpaquePointer?
    /// The SQL text the statement was prepared from.
    public let sql: String
    /// The result columns' names and positions, made at the first row and kept while the statement is cached (the
    /// columns of a prepared statement do not change).
    private var columnTable: ColumnTable?

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit {
        // A no-op on an already-finalized statement; sqlite3_close_v2 waits for this one.
        sqlite3_finalize(handle)
    }

    /// Releases the compiled statement; later use throws. Called by the connection on close.
    func finalize() {
        sqlite3_finalize(handle)
        handle = nil
    }

    private func live() throws -> OpaquePointer {
        guard let handle else { throw SQLiteError.misuse("statement used after its connection was closed", sql: sql) }
        return handle
    }

    private func check(_ code: Int32, _ stmt: OpaquePointer) throws {
        guard code == SQLITE_OK else { throw SQLiteError.from(sqlite3_db_handle(stmt), code: code, sql: sql) }
    }

    // MARK: Binding

    /// Number of parameters (`?`, `?NNN`, `:name`, `@name`, `$name`) in the statement.
    public var parameterCount: Int32 { handle.map { sqlite3_bind_parameter_count($0) } ?? 0 }

    /// Resets the statement, clears old bindings, then binds `values` to positions 1...n.
    /// A count that differs from the parameter count is an error: it is always a bug.
    public func bind(_ values: [SQLValue]) throws {
        let stmt = try live()
        resetAndClear(stmt)
        let expected = sqlite3_bind_parameter_count(stmt)
        guard values.count == Int(expected) else {
            throw SQLiteError(code: SQLITE_RANGE,
                              message: "statement has \(expected) parameters but \(values.count) values were given",
                              sql: sql)
        }
        for (offset, value) in values.enumerated() {
            try bind(value, at: Int32(offset + 1))
        }
    }

    /// Binds one value at a 1-based position, leaving the others as they are.
    public func bind(_ value: SQLValue, at index: Int32) throws {
        let stmt = try live()
        let code: Int32
        switch value {
        case .null:
            code = sqlite3_bind_null(stmt, index)
        case .integer(let v):
            code = sqlite3_bind_int64(stmt, index, v)
        case .real(let v):
            code = sqlite3_bind_double(stmt, index, v)
        case .text(let v):
            code = Statement.bindText(v, stmt: stmt, index: index)
        case .blob(let bytes):
            code = bytes.withUnsafeBytes { buffer in
                // A zero-length buffer may have a nil base address, which SQLite would bind as NULL.
                guard let base = buffer.baseAddress, !buffer.isEmpty else {
                    return sqlite3_bind_zeroblob(stmt, index, 0)
                }
                return sqlite3_bind_blob64(stmt, index, base, sqlite3_uint64(buffer.count), SQLITE_TRANSIENT)
            }
        }
        try check(code, stmt)
    }

    private static func bindText(_ text: String, stmt: OpaquePointer, index: Int32) -> Int32 {
        var text = text
        return text.withUTF8 { utf8 in
            // Same nil-pointer hazard as blobs: an empty string must stay '' and not become NULL.
            guard let base = utf8.baseAddress, !utf8.isEmpty else {
                return sqlite3_bind_text(stmt, index, "", 0, SQLITE_TRANSIENT)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: utf8.count) { chars in
                sqlite3_bind_text64(stmt, index, chars, sqlite3_uint64(utf8.count), SQLITE_TRANSIENT, UInt8(SQLITE_UTF8))
            }
        }
    }

    /// Resets, clears, then binds named parameters. Keys may be written with or without
    /// the prefix (`"id"` finds `:id`, `@id` or `$id`); a key matching no parameter is an error.
    public func bind(named values: [String: SQLValue]) throws {
        let stmt = try live()
        resetAndClear(stmt)
        for (name, value) in values {
            let candidates = name.first.map { ":@$".contains($0) } == true ? [name] : [":" + name, "@" + name, "$" + name]
            guard let index = candidates.lazy.map({ sqlite3_bind_parameter_index(stmt, $0) }).first(where: { $0 > 0 }) else {
                throw SQLiteError(code: SQLITE_RANGE, message: "statement has no parameter named \(name)", sql: sql)
            }
            try bind(value, at: index)
        }
    }

    /// Sets every parameter back to NULL.
    public func clearBindings() {
        if let handle { sqlite3_clear_bindings(handle) }
    }

    // MARK: Stepping

    /// Advances to the next row: true when a row is available, false when the statement is done.
    @discardableResult
    public func step() throws -> Bool {
        let stmt = try live()
        switch sqlite3_step(stmt) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw SQLiteError.from(sqlite3_db_handle(stmt), code: code, sql: sql)
        }
    }

    /// Rewinds the statement and releases its read snapshot; bindings are kept.
    /// The error from a failed step is reported by `step` itself, so it is not repeated here.
    public func reset() {
        if let handle { sqlite3_reset(handle) }
    }

    func resetAndClear(_ stmt: OpaquePointer) {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    /// Whether the statement leaves the database unchanged (SELECT, most PRAGMAs).
    public var isReadOnly: Bool { handle.map { sqlite3_stmt_readonly($0) != 0 } ?? true }

    /// After a first row: steps a write (`INSERT ... RETURNING`) to SQLITE_DONE; a read is left as it is. Reset
    /// after its first row, an INSERT ... RETURNING into a table whose trigger writes an FTS5 index ended the open
    /// transaction (autocommit came back on; 3.40.1, ReturningTests).
    @inline(__always)
    func finishIfWrite() throws {
        if !isReadOnly { try runToEnd() }
    }

    /// Out of line, so that the reads that call `finishIfWrite` (every `scalar` and `queryOne`) stay as small.
    @inline(never)
    private func runToEnd() throws {
        while try step() {}
    }

    // MARK: Columns of the current row

    public var columnCount: Int32 { handle.map { sqlite3_column_count($0) } ?? 0 }

    public func columnName(_ index: Int32) -> String {
        guard let handle, let name = sqlite3_column_name(handle, index) else { return "" }
        return String(cString: name)
    }

    public var columnNames: [String] { (0..<columnCount).map { columnName($0) } }

    public func isNull(at index: Int32) -> Bool {
        guard let handle else { return true }
        return sqlite3_column_type(handle, index) == SQLITE_NULL
    }

    public func int64(at index: Int32) -> Int64 {
        guard let handle else { return 0 }
        return sqlite3_column_int64(handle, index)
    }

    public func double(at index: Int32) -> Double {
        guard let handle else { return 0 }
        return sqlite3_column_double(handle, index)
    }

    /// The column as text (SQLite converts other classes), or nil for NULL.
    public func text(at index: Int32) -> String? {
        guard let handle, sqlite3_column_type(handle, index) != SQLITE_NULL else { return nil }
        return Statement.text(handle, index)
    }

    /// The column in its own storage class.
    public func value(at index: Int32) -> SQLValue {
        guard let handle else { return .null }
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT: return .text(Statement.text(handle, index))
        case SQLITE_BLOB:
            // Pointer first, then length: the order the SQLite manual recommends.
            guard let bytes = sqlite3_column_blob(handle, index) else { return .blob([]) }
            let count = Int(sqlite3_column_bytes(handle, index))
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private static func text(_ stmt: OpaquePointer, _ index: Int32) -> String {
        guard let chars = sqlite3_column_text(stmt, index) else { return "" }
        let count = Int(sqlite3_column_bytes(stmt, index))
        // Length-based so text containing NUL characters survives intact.
        return String(decoding: UnsafeBufferPointer(start: chars, count: count), as: UTF8.self)
    }

    /// The result columns, built once per statement.
    var columns: ColumnTable {
        if let columnTable, columnTable.names.count == Int(columnCount) { return columnTable }
        let table = ColumnTable(names: columnNames)
        columnTable = table
        return table
    }

    /// Copies the current row out.
    func row() -> Row {
        Row(table: columns, values: (0..<columnCount).map { value(at: $0) })
    }

    /// Steps to the end, collecting every row.
    func allRows() throws -> [Row] {
        var rows: [Row] = []
        while try step() { rows.append(row()) }
        return rows
    }
}
