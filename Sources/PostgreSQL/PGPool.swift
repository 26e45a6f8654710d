import Foundation

/// Up to `size` connections to one database, shared by threads: each borrower has one to itself.
///
/// Connections open on first demand (or all at once with `openEagerly`). One found broken
/// (the server restarted, the network dropped) is reset on its next borrow, so the pool
/// recovers by itself when the server comes back; while it is away, borrows fail fast with
/// `isUnavailable` errors rather than waiting.
///
/// `@unchecked Sendable` is safe because every mutable field (the idle list, the open and
/// borrowed counts, `isClosed`) is read and written only while `condition` is locked, and a
/// `PGConnection` is handed to exactly one thread at a time: it is taken out of the idle list
/// under the lock and put back under the lock when the body returns.
/// NSCondition rather than `Mutex` because ThreadSanitizer reports false races on `Mutex` on Linux.
public final class PGPool: @unchecked Sendable {
    public let size: Int
    /// How long a borrow waits for a free connection before it throws a `.timeout` error; nil waits forever.
    public let borrowTimeout: Duration?
    private let conninfo: String
    private let statementCacheCapacity: Int
    private let condition = NSCondition()
    private var idle: [PGConnection] = []
    /// Connections that exist or are being opened, borrowed or not.
    private var openCount = 0
    private var borrowedCount = 0
    private var isClosed = false

    /// - Parameter openEagerly: open all `size` connections now, so a wrong URL or an
    ///   unreachable server fails at start instead of on the first request.
    public init(
        _ conninfo: String,
        size: Int = 4,
        statementCacheCapacity: Int = 128,
        borrowTimeout: Duration? = nil,
        openEagerly: Bool = false
    ) throws {
        guard size > 0 else { throw PGError.misuse("a connection pool needs at least one connection (size is \(size))") }
        self.conninfo = conninfo
        self.size = size
        self.statementCacheCapacity = statementCacheCapacity
        self.borrowTimeout = borrowTimeout
        if openEagerly {
            var opened: [PGConnection] = []
            do {
                for _ in 0..<size { opened.append(try PGConnection(conninfo, statementCacheCapacity: statementCacheCapacity)) }
            } catch {
                opened.forEach { $0.close() }
                throw error
            }
            idle = opened
            openCount = size
        }
    }

    deinit {
        close()
    }

    /// Lends a connection for the duration of `body`, waiting while all are in use. A broken
    /// connection is reset first; if that fails the error is thrown and the connection stays
    /// in the pool for the next attempt. Borrowing again from inside `body` can deadlock a
    /// full pool: pass the connection down instead.
    ///
    /// A transaction `body` left open is rolled back and LISTENs are dropped on return. Other
    /// session state (`SET ...`) stays with the connection: use `SET LOCAL` inside a transaction.
    public func withConnection<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let connection = try borrow()
        defer { giveBack(connection) }
        if !connection.isHealthy {
            try connection.reset()
        }
        return try body(connection)
    }

    /// Takes a connection out of the pool (reset first if broken) for a use that spans threads in turn (a streamed
    /// export opens its snapshot on one thread and reads the rest on another); hand it back with `checkIn`, once.
    /// `withConnection` is the way for everything else.
    public func checkOut() throws -> PGConnection {
        let connection = try borrow()
        if !connection.isHealthy {
            do {
                try connection.reset()
            } catch {
                giveBack(connection)
                throw error
            }
        }
        return connection
    }

    /// Gives back a connection `checkOut` took, ending any transaction left open.
    public func checkIn(_ connection: PGConnection) {
        giveBack(connection)
    }

    /// `withConnection` plus `transaction`: COMMIT when `body` returns, ROLLBACK when it throws.
    @discardableResult
    public func transaction<T>(_ isolation: PGIsolationLevel? = nil, _ body: (PGConnection) throws -> T) throws -> T {
        try withConnection { connection in
            try connection.transaction(isolation) { try body(connection) }
        }
    }

    /// Connections currently open (idle or borrowed).
    public var openConnectionCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return openCount
    }

    /// Connections open and waiting for a borrower.
    public var idleConnectionCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return idle.count
    }

    /// Waits for borrowed connections to come back, then closes them all. Idempotent; later
    /// borrows throw a `.closed` error. Calling it from inside `withConnection` waits forever.
    public func close() {
        condition.lock()
        isClosed = true
        condition.broadcast()
        while borrowedCount > 0 {
            condition.wait()
        }
        let connections = idle
        idle.removeAll()
        openCount = 0
        condition.unlock()
        connections.forEach { $0.close() }
    }

    private func borrow() throws -> PGConnection {
        condition.lock()
        let deadline = borrowTimeout.map { Date().addingTimeInterval(PGPool.seconds($0)) }
        while !isClosed && idle.isEmpty && openCount >= size {
            if let deadline {
                if !condition.wait(until: deadline), !isClosed, idle.isEmpty, openCount >= size {
                    condition.unlock()
                    throw PGError(kind: .timeout, message: "all \(size) connections stayed busy for \(borrowTimeout.map { "\($0)" } ?? "")")
                }
            } else {
                condition.wait()
            }
        }
        guard !isClosed else {
            condition.unlock()
            throw PGError(kind: .closed, message: "connection pool is closed")
        }
        borrowedCount += 1
        if let connection = idle.popLast() {
            condition.unlock()
            return connection
        }
        // Reserve the slot, then connect without holding the lock: a connect can take seconds.
        openCount += 1
        condition.unlock()
        do {
            return try PGConnection(conninfo, statementCacheCapacity: statementCacheCapacity)
        } catch {
            condition.lock()
            openCount -= 1
            borrowedCount -= 1
            condition.broadcast()
            condition.unlock()
            throw error
        }
    }

    private func giveBack(_ connection: PGConnection) {
        if connection.isInTransaction { try? connection.execute("ROLLBACK") }
        if !connection.channels.isEmpty { try? connection.unlistenAll() }
        condition.lock()
        idle.append(connection)
        borrowedCount -= 1
        condition.broadcast()
        condition.unlock()
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
