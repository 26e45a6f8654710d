/// A PostgreSQL failure: the server's SQLSTATE and diagnostic fields, or a client-side cause.
/// Never contains a password: connection messages are masked before they are stored.
public struct PGError: Error, Sendable, CustomStringConvertible {
    public let kind: PGErrorKind
    /// The five-character SQLSTATE (`23505`), when the server sent one.
    public let sqlState: String?
    /// The primary message, without severity prefix.
    public let message: String
    public let detail: String?
    public let hint: String?
    /// The violated constraint (unique, foreign key, check, exclusion), when there is one.
    public let constraint: String?
    public let table: String?
    public let column: String?
    /// The statement that failed, when there was one.
    public let sql: String?

    public init(
        kind: PGErrorKind,
        sqlState: String? = nil,
        message: String,
        detail: String? = nil,
        hint: String? = nil,
        constraint: String? = nil,
        table: String? = nil,
        column: String? = nil,
        sql: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
        self.sql = sql
    }

    /// The first two characters of the SQLSTATE: `23` integrity, `08` connection, `40` rollback...
    public var sqlStateClass: String? { sqlState.map { String($0.prefix(2)) } }

    /// A duplicate in a unique index or primary key: "already exists" to a caller (23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var isForeignKeyViolation: Bool { sqlState == "23503" }

    public var isCheckViolation: Bool { sqlState == "23514" }

    public var isNotNullViolation: Bool { sqlState == "23502" }

    /// A SERIALIZABLE or REPEATABLE READ transaction lost a conflict (40001): retry it whole.
    public var isSerializationFailure: Bool { sqlState == "40001" }

    /// The server broke a deadlock by failing this transaction (40P01): retry it whole.
    public var isDeadlock: Bool { sqlState == "40P01" }

    /// The connection is gone or could not be made: class 08, or libpq found it broken.
    public var isConnectionFailure: Bool { kind == .connection || sqlStateClass == "08" }

    /// A write reached a read-only transaction or a hot standby (25006).
    public var isReadOnly: Bool { sqlState == "25006" }

    public var isDiskFull: Bool { sqlState == "53100" }

    /// The server cannot be reached or is going away: every connection failure, 57P01 admin
    /// shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up or shutting down).
    public var isServerGone: Bool {
        if isConnectionFailure { return true }
        switch sqlState {
        case "57P01", "57P02", "57P03": return true
        default: return false
        }
    }

    /// The server is not serving now, but may again soon: try later or elsewhere. The server
    /// is gone (`isServerGone`), or it has too many connections (53300).
    public var isUnavailable: Bool { isServerGone || sqlState == "53300" }

    /// Raised by a connection or pool once `close()` has been called.
    public var isClosed: Bool { kind == .closed }

    public var description: String {
        var text = "PostgreSQL error"
        if let sqlState { text += " \(sqlState)" }
        text += ": \(message)"
        if let detail { text += " (\(detail))" }
        if let constraint { text += " [constraint: \(constraint)]" }
        if let sql { text += " [SQL: \(sql)]" }
        return text
    }

    static func misuse(_ message: String, sql: String? = nil) -> PGError {
        PGError(kind: .misuse, message: message, sql: sql)
    }

    static func closed(sql: String? = nil) -> PGError {
        PGError(kind: .closed, message: "connection is closed", sql: sql)
    }
}
