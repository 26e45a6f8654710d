import Foundation
import HTTPServer
import SQLite

/// The one way anything is written: routes, attendance, issue updates, the demo loader (and later batches and
/// imports) hand it decoded values and a `WriteContext`; it runs them on the writer in one transaction with their
/// change-log rows and Idempotency-Key record, and only once the COMMIT has succeeded fills the record cache and
/// wakes the change feed. It knows nothing of HTTP requests.
final class WriteService: Sendable {
    let pool: DatabasePool
    let records: RecordCache
    let changes: ChangeSignal
    let idempotency: IdempotencyStore
    let logger: Logger

    init(pool: DatabasePool, records: RecordCache, changes: ChangeSignal, idempotency: IdempotencyStore, logger: Logger) {
        self.pool = pool
        self.records = records
        self.changes = changes
        self.idempotency = idempotency
        self.logger = logger
    }

    /// Runs `body` in one write transaction. After COMMIT: the transaction's `onCommit` actions, then the feed learns
    /// the newest seq. A storage failure becomes a precise problem; nothing of a failed transaction is kept anywhere.
    func perform<T>(_ context: WriteContext, _ body: (WriteTransaction) throws -> T) throws -> T {
        let (result, actions, seq): (T, [@Sendable () -> Void], Int64)
        do {
            (result, actions, seq) = try pool.write { db in
                let transaction = WriteTransaction(db: db, context: context)
                let result = try body(transaction)
                return (result, transaction.afterCommit, try ChangeSignal.newestSeq(db))
            }
        } catch let error as SQLiteError {
            throw StorageErrors.problem(for: error, logger: logger)
        }
        for action in actions { action() }
        changes.publish(seq)
        return result
    }

    /// `perform` for a request that may carry an Idempotency-Key: the first successful outcome is stored in the
    /// same transaction and replayed for the same key and request; another request with the key is a 422, and
    /// one still running with it a 409.
    func performOnce(_ context: WriteContext, _ body: (WriteTransaction) throws -> WriteOutcome) throws -> WriteOutcome {
        guard let claim = context.idempotency else { return try perform(context, body) }
        try idempotency.begin(claim)
        defer { idempotency.end(claim) }
        return try perform(context) { transaction in
            if let stored = try IdempotencyStore.stored(transaction.db, claim, now: context.now) { return stored }
            let outcome = try body(transaction)
            // Only a success is stored: as with Stripe, a refused request saved nothing, so a retry with the same key
            // after fixing the cause runs again.
            if (200..<300).contains(outcome.status) {
                try IdempotencyStore.store(transaction.db, claim, outcome, now: context.now)
            }
            return outcome
        }
    }
}

/// Maps SQLite failures that slip past validation to problems; internals stay in the log.
enum StorageErrors {
    static func problem(for error: SQLiteError, logger: Logger) -> Problem {
        if error.isUniqueViolation {
            let column = error.message.split(separator: ".").last.map(String.init) ?? "a unique field"
            return APIError.conflict("duplicate", "another record already has this \(column)")
        }
        if error.isBusy || error.isClosed {
            return APIError.unavailable("the database is busy or unavailable; retry shortly")
        }
        if error.isConstraintViolation {
            logger.warning("constraint rejected a write that validation let through: \(error)")
            return APIError.storageRule()
        }
        logger.error("database error: \(error)")
        return APIError.internalError()
    }
}
