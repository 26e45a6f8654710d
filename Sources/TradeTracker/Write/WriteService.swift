import Foundation
import HTTPServer
import SQLite

/// The one way anything is written: routes, attendance, issue updates and the demo loader (later batches and
/// imports) hand it decoded values and a `WriteContext`; it queues them for the single writer, which runs them with
/// their change-log rows and Idempotency-Key record, many to a transaction, and only once the COMMIT has succeeded
/// fills the record cache, wakes the change feed and answers. It knows nothing of HTTP requests.
final class WriteService: Sendable {
    let database: Database
    let records: RecordCache
    let changes: ChangeSignal
    let idempotency: IdempotencyStore
    let writer: DatabaseWriter
    let health: StorageHealth
    let logger: Logger

    init(database: Database, records: RecordCache, changes: ChangeSignal, idempotency: IdempotencyStore, health: StorageHealth,
         logger: Logger, batchLimit: Int = 64, queueLimit: Int = 1024, observeBatch: (@Sendable (Int, Double) -> Void)? = nil) {
        self.database = database
        self.records = records
        self.changes = changes
        self.idempotency = idempotency
        self.health = health
        self.logger = logger
        writer = DatabaseWriter(database: database, changes: changes, health: health, logger: logger, batchLimit: batchLimit, queueLimit: queueLimit,
                                observeBatch: observeBatch)
    }

    /// Whether a write commits now: writes a probe row through the writer and waits for its commit (at most
    /// `timeout`). nil when it did; otherwise why not.
    func probe(timeout: Duration = .seconds(2)) -> String? {
        if let problem = health.fileProblem() { return problem }
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox<Void>()
        let now = TimeSource.system.now()
        let context = WriteContext(actor: nil, requestID: nil, now: now, today: TimeSource.system.today())
        do {
            try submit(context, { transaction in
                let db = transaction.db
                try db.run("INSERT INTO app_settings (name, value) VALUES ('readiness_probe', ?)" + db.dialect.upsert(key: ["name"], set: ["value"]),
                           [.text(now)])
            }, completion: { outcome in
                result.value = outcome
                done.signal()
            })
        } catch {
            return error.detail ?? error.title
        }
        guard done.wait(timeout: .now() + .nanoseconds(Int(timeout.nanoseconds))) == .success else {
            return "the writer did not commit a probe within \(timeout)"
        }
        if case .failure(let problem)? = result.value { return problem.detail ?? problem.title }
        return nil
    }

    /// Queues `body` for the writer; `completion` runs (on the writer thread) once its commit is durable, or with the
    /// problem that stopped it. A full queue is a 503 thrown at once.
    /// `rerunnable`: `body` depends on nothing but the database (see `WriteJob.rerunnable`).
    func submit<T: Sendable>(_ context: WriteContext, rerunnable: Bool = false, _ body: @escaping @Sendable (WriteTransaction) throws -> T,
                             completion: @escaping @Sendable (Result<T, Problem>) -> Void) throws(Problem) {
        try writer.submit(WriteJob(context: context, execute: { transaction in
            let result = try body(transaction)
            return { completion(.success(result)) }
        }, fail: { completion(.failure($0)) }, rerunnable: rerunnable))
    }

    /// `submit` for a request that may carry an Idempotency-Key: the first successful outcome is stored in the
    /// same transaction and replayed for the same key and request; another request with the key is a 422, and one
    /// still running with it a 409.
    func submitOnce(_ context: WriteContext, rerunnable: Bool = false, _ body: @escaping @Sendable (WriteTransaction) throws -> WriteOutcome,
                    completion: @escaping @Sendable (Result<WriteOutcome, Problem>) -> Void) throws(Problem) {
        guard let claim = context.idempotency else { return try submit(context, rerunnable: rerunnable, body, completion: completion) }
        try idempotency.begin(claim)
        do {
            try submit(context, rerunnable: rerunnable, Self.once(claim, body)) { [idempotency] result in
                idempotency.end(claim)
                completion(result)
            }
        } catch {
            idempotency.end(claim)
            throw error
        }
    }

    /// The body with its Idempotency-Key handling: replay a stored outcome, or store a successful one.
    private static func once(_ claim: IdempotencyClaim, _ body: @escaping @Sendable (WriteTransaction) throws -> WriteOutcome)
        -> @Sendable (WriteTransaction) throws -> WriteOutcome {
        { transaction in
            // Another instance may be running the same key right now (only this one's in-flight set is in memory).
            try IdempotencyStore.exclude(transaction.db, claim)
            if let stored = try IdempotencyStore.stored(transaction.db, claim, now: transaction.context.now) { return stored }
            let outcome = try body(transaction)
            // Only a success is stored: as with Stripe, a refused request saved nothing, so a retry with the same key
            // after fixing the cause runs again.
            if (200..<300).contains(outcome.status) {
                try IdempotencyStore.store(transaction.db, claim, outcome, now: transaction.context.now)
            }
            return outcome
        }
    }

    /// Runs `body` through the writer and waits for its commit (start-up work such as the demo loader, and tests).
    func perform<T: Sendable>(_ context: WriteContext, _ body: @escaping @Sendable (WriteTransaction) throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox<T>()
        try submit(context, body) { outcome in
            result.value = outcome
            done.signal()
        }
        done.wait()
        return try result.value!.get()
    }

    /// Runs a write that is known to fail (its body had field problems) on a reader, inside a transaction that is
    /// rolled back: the same checks in the same order give the same answer (404, 412, one 422 with every problem),
    /// and the writer never sees it. Returns normally only if the body unexpectedly passed.
    func rehearse(_ context: WriteContext, _ body: @Sendable (WriteTransaction) throws -> WriteOutcome) throws {
        do {
            try database.read { db in
                try db.run(db.dialect.beginReadOnly)
                defer { _ = try? db.run("ROLLBACK TRANSACTION") }
                let transaction = WriteTransaction(db: db, context: context)
                if let claim = context.idempotency, try IdempotencyStore.stored(db, claim, now: context.now) != nil {
                    return  // a replay: let the writer answer it
                }
                _ = try body(transaction)
            }
        } catch {
            guard let storage = StorageError(sorting: error) else { throw error }
            // A write attempted on the read-only connection means the checks passed after all: let the writer run it.
            if storage.kind == .readOnly { return }
            throw StorageErrors.problem(for: storage, logger: logger)
        }
    }
}

/// Carries a result from the writer thread to the thread waiting on a semaphore; the semaphore orders the accesses.
private final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, Problem>?
}

/// Maps storage failures that slip past validation to problems, the same for both engines; internals stay in the log.
enum StorageErrors {
    /// The answer to every read and write while the database server is away.
    static let unreachable = "the database is unreachable; retry shortly"

    /// Out of line: the catch sites are on the read path (`APIContext.read`), which stays small enough to inline.
    @inline(never)
    static func problem(for error: SQLiteError, logger: Logger) -> Problem {
        problem(for: StorageError(error), logger: logger)
    }

    static func problem(for error: StorageError, logger: Logger) -> Problem {
        switch error.kind {
        case .uniqueViolation(let column):
            return APIError.conflict("duplicate", "another record already has this \(column ?? "a unique field")")
        case .unavailable, .serializationFailure:
            return APIError.unavailable("the database is busy or unavailable; retry shortly")
        case .unreachable:
            // A write whose COMMIT got no answer lands here too: it may have committed, so it is never reported as a
            // success; the client retries with its Idempotency-Key, which replays the stored outcome if it did.
            return APIError.unavailable(StorageErrors.unreachable, retryAfter: 2)
        case .storageFault, .readOnly:
            logger.error("storage fault: \(error)")
            return APIError.storageUnavailable("the database cannot be written right now (disk full, read-only or an I/O error); reads still work")
        case .constraintViolation, .foreignKeyViolation:
            logger.warning("constraint rejected a write that validation let through: \(error)")
            return APIError.storageRule()
        case .other:
            logger.error("database error: \(error)")
            return APIError.internalError()
        }
    }
}
