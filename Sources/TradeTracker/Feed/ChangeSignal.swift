import Foundation
import SQLite
import Synchronization

/// The change log's newest seq, known in memory: bumped after every commit, read without touching the database.
final class ChangeSignal: @unchecked Sendable {
    private let newest: Atomic<Int64>
    // `listeners` is guarded by `lock` (NSLock: ThreadSanitizer reports false races on Mutex under Linux).
    private let lock = NSLock()
    private var listeners: [@Sendable (Int64) -> Void] = []

    init(seq: Int64) {
        newest = Atomic(seq)
    }

    static func newestSeq(_ db: SQLiteConnection) throws -> Int64 {
        if case .integer(let seq)? = try db.scalar("SELECT COALESCE(MAX(seq), 0) FROM change_log") { return seq }
        return 0
    }

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
