import Foundation

/// Runs what follows a durable commit — the record cache fills, the change feed's wake-up and the answers to the
/// requesters (serialising each response and sending it) — on a thread of its own, batch after batch in commit
/// order, so the writer's thread goes straight on to the next transaction meanwhile. The writer's thread is serial:
/// every microsecond it spends per write caps the write rate, and answering a write costs about as much as running
/// its SQL.
final class CommitAnswers: @unchecked Sendable {
    // `batches` and `open` are guarded by `condition`; only the thread runs the closures.
    private let condition = NSCondition()
    private var batches: [[@Sendable () -> Void]] = []
    private var open = true
    private let finished = DispatchSemaphore(value: 0)

    init(name: String) {
        let thread = Thread { [self] in
            // Set from inside: only then does Foundation pass the name to the kernel (perf, top -H, /proc/PID/task).
            Thread.current.name = name
            run()
            finished.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues one committed batch's follow-ups, run in this order after those queued before.
    func run(_ batch: [@Sendable () -> Void]) {
        guard !batch.isEmpty else { return }
        condition.lock()
        guard open else {
            condition.unlock()
            for action in batch { action() }
            return
        }
        let wasIdle = batches.isEmpty
        batches.append(batch)
        if wasIdle { condition.signal() }
        condition.unlock()
    }

    /// Runs what is queued, then stops the thread; returns once it has. Later batches run on the caller's thread.
    func finish() {
        condition.lock()
        let wasOpen = open
        open = false
        condition.signal()
        condition.unlock()
        if wasOpen { finished.wait() }
    }

    private func run() {
        while true {
            condition.lock()
            while open && batches.isEmpty { condition.wait() }
            let taken = batches
            batches = []
            let stop = !open
            condition.unlock()
            for batch in taken { for action in batch { action() } }
            if stop && taken.isEmpty { return }
        }
    }
}
