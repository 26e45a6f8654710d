import CSQLite

/// An SQLite failure, carrying the extended result code so callers can pattern-match constraint kinds.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// Extended result code (connections enable extended codes when they open).
    public let code: Int32
    public let message: String
    /// The statement that failed, when there was one.
    public let sql: String?

    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// The primary result code: the low byte of the extended one.
    public var primaryCode: Int32 { code & 0xff }

    /// A constraint of the schema refused the statement. Not a COMMIT a commit hook refused: that is no rule of the
    /// data, but the transaction failing to end.
    public var isConstraintViolation: Bool { primaryCode == SQLITE_CONSTRAINT && code != SQLiteResultCode.constraintCommitHook }

    /// The COMMIT was turned into a rollback by a commit hook (fault injection).
    public var isCommitRefused: Bool { code == SQLiteResultCode.constraintCommitHook }

    /// A duplicate in a UNIQUE index or a PRIMARY KEY: both mean "already exists" to a caller.
    public var isUniqueViolation: Bool {
        code == SQLiteResultCode.constraintUnique || code == SQLiteResultCode.constraintPrimaryKey
    }

    public var isForeignKeyViolation: Bool { code == SQLiteResultCode.constraintForeignKey }

    public var isCheckViolation: Bool { code == SQLiteResultCode.constraintCheck }

    public var isNotNullViolation: Bool { code == SQLiteResultCode.constraintNotNull }

    /// A write on a read-only connection or file (`SQLITE_READONLY` and its extended codes).
    public var isReadOnly: Bool { primaryCode == SQLITE_READONLY }

    /// The storage under the database failed, not the statement: a full disk (`SQLITE_FULL`), a read-only file,
    /// an I/O error, a file that cannot be opened or is not (or no longer) a database, or a refused COMMIT. Such
    /// faults can clear by themselves (space freed, permissions restored), so callers answer "unavailable" and retry.
    public var isStorageFault: Bool {
        [SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_NOTADB, SQLITE_CORRUPT, SQLITE_PROTOCOL]
            .contains(primaryCode) || isCommitRefused
    }

    /// The database was locked by another connection for longer than the busy timeout.
    public var isBusy: Bool { primaryCode == SQLITE_BUSY }

    /// Raised by the pool once `close()` has been called.
    public var isClosed: Bool { code == SQLITE_MISUSE && message == SQLiteError.closedMessage }

    public var description: String {
        var text = "SQLite error \(code) (\(SQLiteError.codeName(code))): \(message)"
        if let sql { text += " [SQL: \(sql)]" }
        return text
    }

    static let closedMessage = "database is closed"

    static func closed(sql: String? = nil) -> SQLiteError {
        SQLiteError(code: SQLITE_MISUSE, message: closedMessage, sql: sql)
    }

    static func misuse(_ message: String, sql: String? = nil) -> SQLiteError {
        SQLiteError(code: SQLITE_MISUSE, message: message, sql: sql)
    }

    /// Reads the connection's current error; call it right after the failing API call.
    static func from(_ db: OpaquePointer?, code: Int32, sql: String? = nil) -> SQLiteError {
        let message: String
        if let db, let text = sqlite3_errmsg(db) {
            message = String(cString: text)
        } else {
            message = String(cString: sqlite3_errstr(code))
        }
        return SQLiteError(code: code, message: message, sql: sql)
    }

    /// SQLite's generic English text for a code ("constraint failed"), used in `description`.
    static func codeName(_ code: Int32) -> String {
        String(cString: sqlite3_errstr(code))
    }
}

/// Extended result codes, spelled out because the C macros are built with shifts
/// that the Swift importer does not carry over reliably.
enum SQLiteResultCode {
    static let constraintCheck: Int32 = SQLITE_CONSTRAINT | (1 << 8)
    static let constraintCommitHook: Int32 = SQLITE_CONSTRAINT | (2 << 8)
    static let constraintForeignKey: Int32 = SQLITE_CONSTRAINT | (3 << 8)
    static let constraintNotNull: Int32 = SQLITE_CONSTRAINT | (5 << 8)
    static let constraintPrimaryKey: Int32 = SQLITE_CONSTRAINT | (6 << 8)
    static let constraintUnique: Int32 = SQLITE_CONSTRAINT | (8 << 8)
}
