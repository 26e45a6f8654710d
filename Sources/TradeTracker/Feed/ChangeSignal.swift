import Foundation
import SQLite
import Synchronization

/// The change log's newest seq, known in memory: bumped after every commit, read without touching the database.
final class ChangeSignal: @unchecked Sendable {
    private let newest: Atomic<Int64>
    /// The newest seq pruned from the log by retention (0: nothing pruned): a reader behind it has missed changes.
    private let pruned: Atomic<Int64>
    // `listeners` is guarded by `lock` (NSLock: ThreadSanitizer reports false races on Mutex under Linux).
    private let lock = NSLock()
    private var listeners: [@Sendable (Int64) -> Void] = []

    init(seq: Int64, prunedThrough: Int64 = 0) {
        newest = Atomic(seq)
        pruned = Atomic(prunedThrough)
    }

    /// The newest seq handed out: the log's last row, or — when retention pruned the newest rows too — the counter
    /// AUTOINCREMENT keeps (PostgreSQL: change_log_counter), so the tip never moves backwards.
    static func newestSeq(_ db: some SQLExecutor) throws -> Int64 {
        if case .integer(let seq)? = try db.scalar(db.dialect.changeLogTip) { return seq }
        return 0
    }

    static func prunedThrough(_ db: some SQLExecutor) throws -> Int64 {
        if case .text(let text)? = try db.scalar("SELECT value FROM app_settings WHERE name = 'change_log_pruned_through'"),
           let seq = Int64(text) { return seq }
        return 0
    }

    var prunedThrough: Int64 { pruned.load(ordering: .acquiring) }

    func notePruned(through seq: Int64) { pruned.store(seq, ordering: .releasing) }

    var seq: Int64 { newest.load(ordering: .acquiring) }

    /// Records a commit's seq (never moving backwards) and tells the listeners.
    func publish(_ seq: Int64) {
        var current = newest.load(ordering: .acquiring)
        while seq > current {
            let (exchanged, original) = newest.compareExchange(expected: current, desired: seq, ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = original
        }
        guard seq >= current else { return }
        lock.lock()
        let registered = listeners
        lock.unlock()
        for listener in registered { listener(seq) }
    }

    func listen(_ listener: @escaping @Sendable (Int64) -> Void) {
        lock.lock()
        listeners.append(listener)
        lock.unlock()
    }
}
