import CPostgreSQL
import Foundation

/// One libpq connection. Not Sendable: use it from one thread at a time (the pool enforces this).
public final class PGConnection {
    private(set) var handle: OpaquePointer?
    /// The connection string as given; never put it in a message (use `maskedConninfo`).
    let conninfo: String
    /// The connection string with its password masked; safe to log.
    public let maskedConninfo: String
    var statements: PGStatementCache
    var statementCounter: UInt64 = 0
    /// Names evicted from the cache whose server-side DEALLOCATE waits for an idle moment.
    var pendingDeallocations: [String] = []
    /// Channels to LISTEN on again after `reset()`, which starts a new server session.
    var listenedChannels: Set<String> = []
    var savepointDepth = 0

    /// Connects with a URL (`postgres://user@127.0.0.1:5432/db?sslmode=disable`) or a keyword
    /// string (`host=... dbname=...`). Parameters the string leaves out get defaults: a 10 s
    /// `connect_timeout`, so an unreachable host cannot hold a thread forever, and
    /// `trade-tracker` as fallback application name. The client encoding is always UTF8,
    /// because every text value is decoded as UTF-8.
    /// - Parameter statementCacheCapacity: prepared statements kept per connection (at least 1).
    public init(_ conninfo: String, statementCacheCapacity: Int = 128) throws {
        self.conninfo = conninfo
        maskedConninfo = PGConninfo.masked(conninfo)
        statements = PGStatementCache(capacity: statementCacheCapacity)
        handle = try PGConnection.connect(conninfo, masked: maskedConninfo)
    }

    deinit {
        close()
    }

    private static func connect(_ conninfo: String, masked: String) throws -> OpaquePointer {
        _ = try LibPQ.open()
        // PQconnectdbParams with expand_dbname: entries before "dbname" are defaults the
        // string may override, entries after it override the string (libpq manual, 34.1).
        let settings = [
            ("connect_timeout", "10"),
            // A server that vanishes without closing the connection (a partition, a powered-off host) is noticed in
            // about 20 s instead of the kernel's two hours: TCP keepalives, and unacknowledged data given up after
            // 20 s (tcp_user_timeout). The URL may set others.
            ("keepalives", "1"),
            ("keepalives_idle", "10"),
            ("keepalives_interval", "3"),
            ("keepalives_count", "3"),
            ("tcp_user_timeout", "20000"),
            ("fallback_application_name", "trade-tracker"),
            ("dbname", conninfo),
            ("client_encoding", "UTF8"),
        ]
        let connection = withCStrings(settings.map(\.0)) { keywords in
            withCStrings(settings.map(\.1)) { values in
                libpq.PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let connection else {
            throw PGError(kind: .connection, message: "cannot connect to \(masked): libpq is out of memory")
        }
        guard libpq.PQstatus(connection) == CONNECTION_OK else {
            let reason = PGError.connectionMessage(connection, conninfo: conninfo) ?? "unknown reason"
            libpq.PQfinish(connection)
            throw PGError(kind: .connection, message: "cannot connect to \(masked): \(reason)")
        }
        // By default libpq prints every NOTICE and WARNING to stderr. Our own DROP ... IF EXISTS
        // and the server's last words on shutdown would land in the logs as noise.
        _ = libpq.PQsetNoticeProcessor(connection, { _, _ in }, nil)
        return connection
    }

    /// Closes the connection; the server drops its prepared statements and LISTENs. Idempotent.
    public func close() {
        _ = statements.removeAll()
        pendingDeallocations.removeAll()
        if let handle { libpq.PQfinish(handle) }
        handle = nil
    }

    public var isClosed: Bool { handle == nil }

    func live(sql: String? = nil) throws -> OpaquePointer {
        guard let handle else { throw PGError.closed(sql: sql) }
        return handle
    }

    /// False once the connection is known to be lost. A server that went away while we were
    /// idle leaves its last message and an end-of-file on the socket, which libpq only notices
    /// when it reads them, so whatever is waiting is read first (never blocking).
    public var isHealthy: Bool {
        guard let handle, libpq.PQstatus(handle) == CONNECTION_OK else { return false }
        // The message and the EOF can take two reads; a busy LISTEN channel stops the loop early.
        for _ in 0..<4 {
            let descriptor = libpq.PQsocket(handle)
            guard descriptor >= 0, PGSocketPoll.waitReadable(descriptor, timeout: .zero) else { break }
            if libpq.PQconsumeInput(handle) == 0 { return false }
        }
        return libpq.PQstatus(handle) == CONNECTION_OK
    }

    /// Reconnects with the same parameters (`PQreset`) after the server went away. The new
    /// session has no prepared statements, so the cache is emptied; LISTENs are issued again.
    public func reset() throws {
        let handle = try live()
        _ = statements.removeAll()
        pendingDeallocations.removeAll()
        savepointDepth = 0
        libpq.PQreset(handle)
        guard libpq.PQstatus(handle) == CONNECTION_OK else {
            let reason = PGError.connectionMessage(handle, conninfo: conninfo) ?? "unknown reason"
            throw PGError(kind: .connection, message: "cannot reconnect to \(maskedConninfo): \(reason)")
        }
        for channel in listenedChannels.sorted() {
            try execute("LISTEN \(try quotedIdentifier(channel))")
        }
    }

    /// The connection's socket, for `poll`/`select`/a Dispatch source waiting on a LISTENing
    /// connection; -1 when closed. It changes after `reset()`. Read only through libpq
    /// (`notifications()`), never directly.
    public var socketDescriptor: Int32 { handle.map { libpq.PQsocket($0) } ?? -1 }

    /// The server process serving this connection (`pg_backend_pid()`), 0 when closed.
    public var backendProcessID: Int32 { handle.map { libpq.PQbackendPID($0) } ?? 0 }

    /// The server version as a number, e.g. 150020 for 15.20; 0 when closed.
    public var serverVersion: Int { handle.map { Int(libpq.PQserverVersion($0)) } ?? 0 }

    /// Runs a script: one or more `;`-separated statements without parameters, in one round
    /// trip (`PQexec`). Without its own BEGIN/COMMIT the whole script is one implicit
    /// transaction, and it stops at the first failing statement.
    public func execute(_ sql: String) throws {
        _ = try executeScript(sql)
    }

    func executeScript(_ sql: String) throws -> PGResult {
        let handle = try live(sql: sql)
        return try complete(libpq.PQexec(handle, sql), sql: sql)
    }

    /// Takes ownership of a result and throws the error it carries, if any.
    func complete(_ raw: OpaquePointer?, sql: String?) throws -> PGResult {
        guard let raw else {
            throw PGError.from(result: nil, connection: handle, sql: sql, conninfo: conninfo)
        }
        let result = PGResult(raw)
        switch result.status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return result
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            abandonCopy(result.status)
            throw PGError.misuse("COPY to or from the client is not supported; use INSERT or COPY with a server file", sql: sql)
        default:
            throw PGError.from(result: raw, connection: handle, sql: sql, conninfo: conninfo)
        }
    }

    /// Brings a connection that a COPY put into copy mode back to idle.
    private func abandonCopy(_ status: ExecStatusType) {
        guard let handle else { return }
        if status == PGRES_COPY_IN {
            _ = libpq.PQputCopyEnd(handle, "COPY FROM STDIN is not supported by this client")
        } else {
            var buffer: UnsafeMutablePointer<CChar>?
            while libpq.PQgetCopyData(handle, &buffer, 0) > 0 {
                libpq.PQfreemem(buffer)
                buffer = nil
            }
        }
        while let next = libpq.PQgetResult(handle) { libpq.PQclear(next) }
    }

    /// `name` as a double-quoted identifier, escaped by libpq for the connection's encoding.
    func quotedIdentifier(_ name: String) throws -> String {
        let handle = try live()
        guard let quoted = libpq.PQescapeIdentifier(handle, name, name.utf8.count) else {
            throw PGError(kind: .misuse, message: PGError.connectionMessage(handle, conninfo: conninfo) ?? "cannot quote \(name)")
        }
        defer { libpq.PQfreemem(quoted) }
        return String(cString: quoted)
    }
}

/// Calls `body` with a NUL-terminated C array of `strings` that lives for the call.
private func withCStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
