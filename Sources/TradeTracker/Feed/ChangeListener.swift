import Foundation
import HTTPServer
import PostgreSQL
import Synchronization

/// On PostgreSQL, commits made through other instances never pass this instance's writer, so nothing would wake the
/// change feed's long polls and streams or move `/v1/status`. Each writer sends `announce(seq)` inside its committing
/// transaction; PostgreSQL delivers it at COMMIT, in commit order, and drops it on ROLLBACK. This listens on one
/// dedicated connection, on a thread of its own, and publishes each announced seq newer than the tip it knows.
/// The payload is only a hint: readers always read `change_log` by seq. Notifications sent while the connection is
/// down are lost, so after every (re)connect the tip is read from the database itself (`SQLDialect.changeLogTip`).
/// Takes the place of `OutsideCommits` (SQLite's `data_version` watcher) on this engine.
///
/// `@unchecked Sendable`: `connection` is used by `init` and then only by the listener thread, which closes it when it
/// ends; everything the other threads touch is atomic or a semaphore.
final class ChangeListener: @unchecked Sendable {
    /// The channel every instance of one deployment announces on. NOTIFY is per database: one deployment per database.
    static let channel = "trade_tracker_changes"

    /// The sending side, for the writer: call it inside the transaction that commits `seq` (the batch's last), after
    /// the change-log rows are written. Delivered to every listener at COMMIT, not at all on ROLLBACK. PostgreSQL only.
    static func announce(_ seq: Int64, in db: some SQLExecutor, channel: String = ChangeListener.channel) throws {
        _ = try db.scalar("SELECT pg_notify(?, ?)", [.text(channel), .text(String(seq))])
    }

    /// How long to wait before each reconnection attempt: `first`, doubled after each failure, at most `longest`.
    struct Backoff: Sendable {
        var first: Duration = .milliseconds(100)
        var longest: Duration = .seconds(5)

        func delay(afterFailures failures: Int) -> Duration {
            var delay = first
            for _ in 0..<min(failures, 32) where delay < longest { delay *= 2 }
            return min(delay, longest)
        }
    }

    private let connection: PGConnection
    private let changes: ChangeSignal
    private let logger: Logger
    private let channel: String
    private let backoff: Backoff
    /// The longest one wait for notifications lasts, which bounds how long `stop` waits for the thread.
    private let slice: Duration
    private let stopping = Atomic<Bool>(false)
    /// Signalled by `stop`, so a backoff sleep ends at once.
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let backend = Atomic<Int32>(0)
    private let reconnects = Atomic<Int>(0)

    /// Connects, LISTENs, publishes the database's tip if it is past `changes`, and starts listening. Throws when the
    /// first connection fails (a wrong URL should stop the start); later losses are reconnected by the thread.
    init(url: String, changes: ChangeSignal, logger: Logger, channel: String = ChangeListener.channel,
         backoff: Backoff = Backoff(), slice: Duration = .milliseconds(500)) throws {
        connection = try PGConnection(url, statementCacheCapacity: 4)
        self.changes = changes
        self.logger = logger
        self.channel = channel
        self.backoff = backoff
        self.slice = slice
        do {
            // LISTEN before reading the tip: a commit between the two is then heard, never missed.
            try connection.listen(channel)
            try catchUp()
        } catch {
            connection.close()
            throw error
        }
        let thread = Thread { [self] in
            // Set from inside: only then does Foundation pass the name to the kernel (perf, top -H, /proc/PID/task).
            Thread.current.name = "change-listener"
            run()
            connection.close()
            backend.store(0, ordering: .releasing)
            finished.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// The server process of the listening connection; 0 while it is down or after `stop`.
    var backendProcessID: Int32 { backend.load(ordering: .acquiring) }

    /// How many times the connection was lost and made again.
    var reconnections: Int { reconnects.load(ordering: .acquiring) }

    /// Ends the thread and closes the connection. True when that happened within `timeout` (a reconnection attempt
    /// in progress can hold it up to libpq's connect timeout; the thread then closes the connection when it ends).
    @discardableResult
    func stop(timeout: Duration = .seconds(2)) -> Bool {
        if !stopping.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
        let nanoseconds = Int(min(timeout.nanoseconds, UInt64(Int.max)))
        guard finished.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else { return false }
        finished.signal() // for the next caller
        return true
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    private func run() {
        while !isStopping {
            do {
                try publish(connection.waitForNotifications(timeout: slice))
            } catch {
                guard reconnect(after: error) else { return }
            }
        }
    }

    private func publish(_ notifications: [PGNotification]) throws {
        var newest: Int64 = 0
        for notification in notifications where notification.channel == channel {
            // A payload that is no seq (a hand-sent NOTIFY) still says something changed: ask the log.
            newest = max(newest, try Int64(notification.payload) ?? tip())
        }
        if newest > changes.seq { changes.publish(newest) }
    }

    private func catchUp() throws {
        let seq = try tip()
        if seq > changes.seq { changes.publish(seq) }
        backend.store(connection.backendProcessID, ordering: .releasing)
    }

    private func tip() throws -> Int64 {
        guard case .integer(let seq)? = try connection.scalar(SQLDialect.postgres.changeLogTip) else { return 0 }
        return seq
    }

    /// Resets the connection until it LISTENs again and the tip is read; false when `stop` came first.
    private func reconnect(after error: any Error) -> Bool {
        backend.store(0, ordering: .releasing)
        logger.warning("change listener: lost its PostgreSQL connection (\(error)); reconnecting, and until then the change feed hears only this instance's writes")
        var failures = 0
        while true {
            let nanoseconds = Int(backoff.delay(afterFailures: failures).nanoseconds)
            if wake.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success || isStopping { return false }
            do {
                try connection.reset() // LISTENs again on the new session
                try catchUp()
                reconnects.add(1, ordering: .acquiringAndReleasing)
                logger.info("change listener: reconnected to \(connection.maskedConninfo) after \(failures + 1) attempt(s)")
                return true
            } catch {
                failures += 1
            }
        }
    }
}
