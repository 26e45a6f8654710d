import Foundation
import HTTPServer
import SQLite

/// What the server deletes by itself, through the writer: Idempotency-Key records past their 24 hours, and — with
/// `--change-log-retention DAYS` — change-log rows older than that (a prefix of the log, so positions behind the
/// oldest kept seq are known to have missed changes: 410). Runs soon after start, then every `interval`.
/// `@unchecked Sendable`: every stored property is immutable; the timer is only scheduled in `init` and cancelled
/// in `stop`, which Dispatch allows from any thread.
final class Retention: @unchecked Sendable {
    let writes: WriteService
    let changes: ChangeSignal
    let clock: TimeSource
    let changeLogDays: Int?
    private let timer: any DispatchSourceTimer

    init(writes: WriteService, changes: ChangeSignal, clock: TimeSource, changeLogDays: Int?, interval: Duration = .seconds(600)) {
        self.writes = writes
        self.changes = changes
        self.clock = clock
        self.changeLogDays = changeLogDays
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "retention"))
        let nanos = Int(interval.nanoseconds)
        timer.schedule(deadline: .now() + .seconds(5), repeating: .nanoseconds(nanos))
        timer.setEventHandler { [weak self] in self?.run() }
        timer.resume()
    }

    /// One pass; what it deleted, for tests and the log.
    @discardableResult
    func run() -> (idempotencyKeys: Int, changes: Int) {
        let nowMilliseconds = clock.nowMilliseconds()
        let now = Timestamp.format(epochMilliseconds: nowMilliseconds)
        let context = WriteContext(actor: nil, requestID: nil, now: now, today: clock.today())
        let cutoff = changeLogDays.map { Timestamp.format(epochMilliseconds: nowMilliseconds - Int64($0) * 86_400_000) }
        do {
            let (keys, pruned, through) = try writes.perform(context) { transaction -> (Int, Int, Int64?) in
                let db = transaction.db
                let keys = try IdempotencyStore.prune(db, now: now)
                guard let cutoff, case .integer(let last)? = try db.scalar("SELECT max(seq) FROM change_log WHERE at < ?", [.text(cutoff)])
                else { return (keys, 0, nil) }
                let pruned = try db.run("DELETE FROM change_log WHERE seq <= ?", [.integer(last)])
                try db.run("INSERT INTO app_settings (name, value) VALUES ('change_log_pruned_through', ?)"
                           + db.dialect.upsert(key: ["name"], set: ["value"]),
                           [.text(String(max(last, try ChangeSignal.prunedThrough(db))))])
                return (keys, pruned, last)
            }
            if let through, through > changes.prunedThrough { changes.notePruned(through: through) }
            if keys > 0 || pruned > 0 {
                writes.logger.info("retention: deleted \(keys) expired idempotency keys and \(pruned) change-log rows")
            }
            return (keys, pruned)
        } catch {
            writes.logger.warning("retention pass failed: \(error); will try again")
            return (0, 0)
        }
    }

    func stop() { timer.cancel() }
}
