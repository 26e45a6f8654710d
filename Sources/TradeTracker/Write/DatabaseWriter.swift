import Foundation
import HTTPServer
import SQLite

/// One queued write: what to run in its savepoint, and how its requester hears the outcome.
struct WriteJob: Sendable {
    let context: WriteContext
    /// Runs the write inside its savepoint; returns what to do once its commit is durable (deliver the result).
    let execute: @Sendable (WriteTransaction) throws -> @Sendable () -> Void
    /// Called with the problem when the write, or the commit it was part of, failed.
    let fail: @Sendable (Problem) -> Void
    /// `execute` depends on nothing but the database, so running it again after its transaction was rolled back
    /// does the same write. False for writes that consume input as they go (an import reading its lines): their
    /// batch gives every write a savepoint from the start, and a lost transaction fails them instead of rerunning.
    var rerunnable = false
}

/// The single writer: one thread that owns the write connection and drains a bounded queue in batches (group
/// commit). Each batch is one `BEGIN IMMEDIATE`, a `SAVEPOINT` per write (a write that fails rolls back alone and
/// gets its own answer), one `COMMIT` — one fsync under synchronous=FULL. Only after the COMMIT has succeeded do the
/// batch's post-commit actions run, the change feed learn the new tip (once per batch) and the requesters hear back,
/// in that order, on a second thread (`CommitAnswers`) while this one starts the next batch. Request workers never
/// wait for it: they queue a job and return a deferred response.
final class DatabaseWriter: @unchecked Sendable {
    private let database: Database
    private let changes: ChangeSignal
    private let health: StorageHealth
    private let logger: Logger
    let batchLimit: Int
    let queueLimit: Int
    /// Told each committed batch's size and duration (for metrics).
    private let observeBatch: (@Sendable (Int, Double) -> Void)?

    // `queue`, `head`, `accepting` and `running` are guarded by `condition`; the thread alone uses the connection.
    private let condition = NSCondition()
    private var queue: [WriteJob?] = []
    private var head = 0
    private var accepting = true
    private var running = true
    private var inBatch = 0
    /// Batches still to run with a savepoint per write from the start (the writer thread alone uses it).
    private var isolatedBatchesLeft = 0
    private let finished = DispatchSemaphore(value: 0)
    /// Runs each committed batch's cache fills, feed wake-up and answers while this thread commits the next batch.
    private let answers = CommitAnswers(name: "write-answers")

    init(database: Database, changes: ChangeSignal, health: StorageHealth, logger: Logger, batchLimit: Int = 64, queueLimit: Int = 1024,
         observeBatch: (@Sendable (Int, Double) -> Void)? = nil) {
        self.observeBatch = observeBatch
        self.database = database
        self.changes = changes
        self.health = health
        self.logger = logger
        self.batchLimit = max(1, batchLimit)
        self.queueLimit = max(1, queueLimit)
        let thread = Thread { [self] in
            // Set from inside: only then does Foundation pass the name to the kernel (perf, top -H, /proc/PID/task).
            Thread.current.name = "database-writer"
            run()
            answers.finish()
            finished.signal()
        }
        thread.name = "database-writer"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Writes waiting for the writer (for metrics).
    var queueDepth: Int {
        condition.lock(); defer { condition.unlock() }
        return queue.count - head
    }

    /// Writes queued or running, not yet answered.
    var pending: Int {
        condition.lock(); defer { condition.unlock() }
        return queue.count - head + inBatch
    }

    /// Queues `job`; a full queue or a writer that stopped taking writes is a 503 at once, never unbounded memory.
    func submit(_ job: WriteJob) throws(Problem) {
        condition.lock()
        defer { condition.unlock() }
        guard accepting else { throw APIError.unavailable("the server is shutting down and takes no more writes", retryAfter: 5) }
        guard queue.count - head < queueLimit else {
            throw APIError.writeQueueFull(queueLimit)
        }
        queue.append(job)
        condition.signal()
    }

    /// New writes get 503 from now on; queued ones still run.
    func stopAccepting() {
        condition.lock()
        accepting = false
        condition.unlock()
    }

    /// Stops taking writes, lets the queued ones finish (at most `timeout`), then stops the thread. Writes still
    /// queued after the timeout are refused with 503, never left unanswered.
    func stop(timeout: Duration) {
        condition.lock()
        accepting = false
        condition.broadcast()
        condition.unlock()
        let deadline = DispatchTime.now() + .nanoseconds(Int(min(timeout.nanoseconds, UInt64(Int.max))))
        while DispatchTime.now() < deadline {
            condition.lock()
            let empty = queue.count == head
            condition.unlock()
            if empty { break }
            usleep(5_000)
        }
        condition.lock()
        running = false
        let abandoned = queue[head...].compactMap { $0 }
        queue = []
        head = 0
        condition.broadcast()
        condition.unlock()
        for job in abandoned { job.fail(APIError.unavailable("the server stopped before this write ran; retry", retryAfter: 5)) }
        _ = finished.wait(timeout: .now() + .seconds(10))
    }

    // MARK: the writer thread

    private func run() {
        while let batch = nextBatch() {
            commit(batch)
            condition.lock()
            inBatch = 0
            condition.unlock()
        }
    }

    private func nextBatch() -> [WriteJob]? {
        condition.lock()
        defer { condition.unlock() }
        while running && queue.count == head { condition.wait() }
        guard queue.count > head else { return nil }
        let end = min(queue.count, head + batchLimit)
        let batch = queue[head..<end].compactMap { $0 }
        for i in head..<end { queue[i] = nil }
        head = end
        inBatch = batch.count
        if head == queue.count {
            queue.removeAll(keepingCapacity: queue.capacity <= 4 * queueLimit)
            head = 0
        } else if head > 1024 && head > queue.count / 2 {
            queue.removeFirst(head)
            head = 0
        }
        return batch
    }

    /// Runs `batch` in one transaction. If SQLite rolls the whole transaction back under a failing write (a full
    /// disk, an I/O error), that write is answered with its failure and the others run again in a new one.
    ///
    /// A batch first runs without a savepoint per write: a SAVEPOINT costs its own statements and makes FTS5 flush
    /// its pending terms into a new segment for every write (measured: ~8 of ~45 µs of SQLite time per write). If
    /// any write fails, that transaction is rolled back unseen and unanswered, and the batch runs again with a
    /// savepoint per write, so the failing one rolls back alone; the batches after it keep the savepoints for a
    /// while, so a stream of failing writes does not pay for every batch twice.
    private func commit(_ batch: [WriteJob]) {
        let started = ContinuousClock.now
        var observed = false
        // Counted before anyone hears back, so a client that reads /metrics after its answer sees its batch.
        let observe = { [observeBatch] in
            if !observed { observeBatch?(batch.count, MetricsRecorder.seconds(since: started)) }
            observed = true
        }
        var remaining = batch
        var attempts = 0
        while !remaining.isEmpty {
            let isolated = isolatedBatchesLeft > 0 || remaining.contains { !$0.rerunnable }
            switch attempt(remaining, isolated: isolated, retriesLeft: attempts < 2, beforeAnswers: observe) {
            case .finished:
                remaining = []
            case .lost(let rerun):
                attempts += 1
                remaining = rerun
            case .needsSavepoints:
                isolatedBatchesLeft = Self.isolatedBatchesAfterFailure + 1
            }
        }
        if isolatedBatchesLeft > 0 { isolatedBatchesLeft -= 1 }
        observe()
    }

    /// How many batches after one with a failing write still give each write its own savepoint from the start.
    static let isolatedBatchesAfterFailure = 16

    private enum Attempt {
        case finished
        /// Their transaction was lost, not by their fault: run these again.
        case lost([WriteJob])
        /// A write failed in a batch run without savepoints: nothing was kept or answered; run it again with them.
        case needsSavepoints
    }

    /// One transaction over `jobs`, each in its own savepoint when `isolated`.
    private func attempt(_ jobs: [WriteJob], isolated: Bool, retriesLeft: Bool, beforeAnswers: () -> Void) -> Attempt {
        // A file deleted or replaced under us: whatever we commit now would be lost at the next start.
        if let problem = health.fileProblem() {
            let refusal = APIError.storageUnavailable(problem + "; writes are refused until it is back")
            for job in jobs { job.fail(refusal) }
            return .finished
        }
        var succeeded: [(job: WriteJob, deliver: @Sendable () -> Void, actions: [@Sendable () -> Void])] = []
        var began = false
        var explicitIDs: [String: Int64] = [:]
        do {
            let seq: Int64 = try database.withWriter { db in
                try db.run(db.dialect.beginWrite)
                began = true
                for (index, job) in jobs.enumerated() {
                    do {
                        // Prepared once and cached: these run for every write.
                        if isolated { try db.run("SAVEPOINT write_job") }
                        let transaction = WriteTransaction(db: db, context: job.context)
                        let deliver = try job.execute(transaction)
                        if isolated { try db.run("RELEASE SAVEPOINT write_job") }
                        succeeded.append((job, deliver, transaction.afterCommit))
                        for (table, id) in transaction.explicitIDs { explicitIDs[table] = max(id, explicitIDs[table] ?? 0) }
                    } catch {
                        // PostgreSQL gave the transaction up for another's sake: the whole batch runs again (below).
                        if StorageError(sorting: error)?.kind == .serializationFailure {
                            if db.isInTransaction { _ = try? db.run("ROLLBACK TRANSACTION") }
                            throw error
                        }
                        guard isolated else {
                            // No savepoint to roll back to: drop the batch's work, nobody has heard anything yet.
                            if db.isInTransaction { _ = try? db.run("ROLLBACK TRANSACTION") }
                            // Alone in its batch, the write is answered now: there is nothing to run again.
                            if jobs.count == 1 { throw FailedAlone(problem: self.problem(for: error)) }
                            throw NeedsSavepoints()
                        }
                        let problem = self.problem(for: error)
                        guard db.isInTransaction else {
                            // SQLite ended the transaction itself: this write failed, the ones before it lost their work.
                            job.fail(problem)
                            throw LostTransaction(ran: succeeded.map(\.job), notRun: Array(jobs[(index + 1)...]))
                        }
                        _ = try? db.run("ROLLBACK TO SAVEPOINT write_job")
                        _ = try? db.run("RELEASE SAVEPOINT write_job")
                        job.fail(problem)
                    }
                }
                do {
                    // PostgreSQL: imported ids retire in the sequence only with the commit that stores them.
                    for (table, id) in explicitIDs { try ResourceStore.raiseIDCounter(table, to: id, db) }
                    let seq = try ChangeSignal.newestSeq(db)
                    // Throws unless the engine confirmed it: a COMMIT sent to a dying server may or may not have
                    // committed, and its writes hear 503 (retried with their Idempotency-Keys), never a success.
                    try db.commitWrite(announcing: succeeded.isEmpty ? nil : seq)
                    return seq
                } catch {
                    if db.isInTransaction { _ = try? db.run("ROLLBACK TRANSACTION") }
                    throw error
                }
            }
            health.recordSuccess()
            beforeAnswers()
            var followUps = succeeded.flatMap(\.actions)
            followUps.append { [changes] in changes.publish(seq) }
            followUps += succeeded.map(\.deliver)
            answers.run(followUps)
            return .finished
        } catch is NeedsSavepoints {
            return .needsSavepoints
        } catch let alone as FailedAlone {
            jobs[0].fail(alone.problem)
            return .finished
        } catch let error as StorageError where error.kind == .serializationFailure && retriesLeft && jobs.allSatisfy(\.rerunnable) {
            // Rolled back by PostgreSQL (a serialization failure or a deadlock): nobody has heard anything yet.
            logger.warning("the write transaction was rolled back to resolve a conflict (\(error)); running it again")
            return .lost(jobs)
        } catch let lost as LostTransaction {
            // A write that ran and cannot run again hears that its transaction was lost; one that never ran can.
            let again = lost.ran.filter(\.rerunnable) + lost.notRun
            let problem = APIError.storageUnavailable("the database could not complete the write")
            for job in lost.ran where !job.rerunnable { job.fail(problem) }
            guard retriesLeft, !again.isEmpty else {
                for job in again { job.fail(problem) }
                return .finished
            }
            return .lost(again)
        } catch {
            // Nothing of the batch was kept. Before BEGIN no write ran, so all hear why; after it, the writes that
            // failed on their own were answered already and the others hear why the commit failed.
            let problem = self.problem(for: error)
            for job in began ? succeeded.map(\.job) : jobs { job.fail(problem) }
            return .finished
        }
    }

    private func problem(for error: any Error) -> Problem {
        switch error {
        case let problem as Problem: return problem
        case let error as SQLiteError:
            let storage = StorageError(error)
            health.recordFailure(storage)
            return StorageErrors.problem(for: storage, logger: logger)
        case let error as StorageError:
            health.recordFailure(error)
            return StorageErrors.problem(for: error, logger: logger)
        default:
            logger.error("write failed: \(error)")
            return APIError.internalError()
        }
    }

    private struct FailedAlone: Error {
        let problem: Problem
    }

    private struct LostTransaction: Error {
        /// Writes done in the lost transaction before the one that failed.
        let ran: [WriteJob]
        /// Writes after it, not started.
        let notRun: [WriteJob]
    }

    private struct NeedsSavepoints: Error {}
}
