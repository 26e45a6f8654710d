import Foundation
import SQLite

/// Commits made by another process on the same file (`trade-tracker import` while the server runs, the sqlite3
/// shell) never pass our writer, so nothing would tell the change feed, its long polls and streams, or `/v1/status`.
/// This looks every `interval` on a connection of its own: `PRAGMA data_version` moves when anyone else committed,
/// and then a change log tip past the one we know is published like one of ours.
/// `@unchecked Sendable`: the connection is used only on the timer's serial queue; the timer is scheduled in `init`
/// and cancelled in `stop`, which Dispatch allows from any thread.
final class OutsideCommits: @unchecked Sendable {
    private let db: SQLiteConnection
    private let changes: ChangeSignal
    private let timer: any DispatchSourceTimer
    private var version: Int64?

    init(path: String, changes: ChangeSignal, interval: Duration = .milliseconds(500)) throws {
        db = try SQLiteConnection(path: path, flags: [.readOnly])
        self.changes = changes
        // The version from now on, and a tip written by someone else since `changes` was read, published at once.
        if case .integer(let current)? = try db.scalar("PRAGMA data_version") { version = current }
        let tip = try ChangeSignal.newestSeq(db)
        if tip > changes.seq { changes.publish(tip) }
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "outside-commits"))
        let nanos = Int(interval.nanoseconds)
        timer.schedule(deadline: .now() + .nanoseconds(nanos), repeating: .nanoseconds(nanos), leeway: .nanoseconds(nanos / 4))
        timer.setEventHandler { [weak self] in self?.look() }
        timer.setCancelHandler { [db] in db.close() }
        timer.resume()
    }

    /// One look; the seq published, if any (tests).
    @discardableResult
    func look() -> Int64? {
        do {
            guard case .integer(let current)? = try db.scalar("PRAGMA data_version") else { return nil }
            defer { version = current }
            guard current != version else { return nil }
            let tip = try ChangeSignal.newestSeq(db)
            guard tip > changes.seq else { return nil }
            changes.publish(tip)
            return tip
        } catch {
            // A vanished or unreadable file is the storage health check's to report; look again next time.
            return nil
        }
    }

    func stop() {
        timer.cancel()
    }
}
