import CSQLite
import Foundation

/// Keeps the WAL short with little checkpoint work on the writer's commit path. SQLite's automatic checkpoint runs
/// inside the COMMIT that takes the WAL past 1,000 frames: that commit copies every frame into the database file and
/// fsyncs it before its writer may go on. Here the writer's WAL hook wakes a thread of our own at each
/// `thresholdFrames / 4` new frames past `thresholdFrames`, which runs a PASSIVE checkpoint on a connection of its
/// own (waiting for no reader or writer), beside the writer.
///
/// Only the writer can start the WAL over, and only when a checkpoint has caught up with the last frame before its
/// transaction began; under a steady stream of writes the thread never quite catches up. So at `limitFrames` the
/// hook checkpoints on the writer itself (PASSIVE too: what is left since the thread's last pass), and the next
/// transaction rewinds the WAL. The WAL therefore never holds much more than `limitFrames`.
///
final class WALCheckpointer: @unchecked Sendable {
    private let connection: SQLiteConnection
    private let thresholdFrames: Int32
    private let limitFrames: Int32
    private let condition = NSCondition()
    private var requested = false
    private var requestedAt: Int32 = 0
    private var open = true
    private let finished = DispatchSemaphore(value: 0)

    init(path: String, busyTimeoutMilliseconds: Int32, thresholdFrames: Int, limitFrames: Int) throws {
        connection = try SQLiteConnection(path: path, flags: [.readWrite, .noMutex], busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        // A connection opens the WAL only when it first reads; until then a checkpoint finds no WAL and does nothing.
        do {
            try connection.execute("SELECT count(*) FROM sqlite_schema")
        } catch {
            connection.close()
            throw error
        }
        self.thresholdFrames = Int32(clamping: max(1, thresholdFrames))
        self.limitFrames = Int32(clamping: max(thresholdFrames, limitFrames))
        let thread = Thread { [self] in
            // Set from inside: only then does Foundation pass the name to the kernel (perf, top -H, /proc/PID/task).
            Thread.current.name = "wal-checkpoint"
            run()
            finished.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Installs the WAL hook on `writer` (replacing SQLite's automatic checkpoint).
    func watch(_ writer: SQLiteConnection) {
        writer.setWALHook { [self] db, frames in
            if frames < requestedAt { requestedAt = 0 }   // the WAL started over
            if frames >= limitFrames {
                _ = try? db.checkpoint()
            } else if frames >= thresholdFrames && frames >= requestedAt + max(1, thresholdFrames / 4) {
                requestedAt = frames
                request()
            }
        }
    }

    private func request() {
        condition.lock()
        if !requested {
            requested = true
            condition.signal()
        }
        condition.unlock()
    }

    /// Stops the thread (after a checkpoint in progress) and closes its connection.
    func stop() {
        condition.lock()
        let wasOpen = open
        open = false
        condition.signal()
        condition.unlock()
        guard wasOpen else { return }
        finished.wait()
        connection.close()
    }

    private func run() {
        while true {
            condition.lock()
            while open && !requested { condition.wait() }
            requested = false
            let stop = !open
            condition.unlock()
            if stop { return }
            // A failure (a reader on the last frames, the file gone) leaves the WAL to the next request or the limit.
            _ = try? connection.checkpoint()
        }
    }
}

extension SQLiteConnection {
    /// `PRAGMA wal_checkpoint(PASSIVE)`: copies what it can of the WAL into the database file without waiting for
    /// readers or writers. Returns the WAL's frames and how many of them are now in the database file.
    @discardableResult
    public func checkpoint() throws -> (frames: Int32, checkpointed: Int32) {
        let db = try live()
        var frames: Int32 = 0, done: Int32 = 0
        let code = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, &frames, &done)
        guard code == SQLITE_OK else { throw SQLiteError.from(db, code: code) }
        return (frames, done)
    }
}
