import Foundation
import HTTPServer
import JSON
import SQLite

/// Idempotency-Key on POST (API.md §1): the stored first (successful) outcome is replayed for the same key and
/// request within 24 h. Requests in flight are known in memory (a second one with the key gets 409 at once);
/// stored outcomes live in `idempotency_keys`, written in the transaction of the write they answer.
final class IdempotencyStore: Sendable {
    static let lifetimeMilliseconds: Int64 = 24 * 3600 * 1000
    static let replayedHeaders = ["Content-Type", "Location", "ETag"]

    private let inFlight = LockedSet()

    /// Marks `claim` as in flight; 409 when it already is.
    func begin(_ claim: IdempotencyClaim) throws(Problem) {
        guard inFlight.insert(claim.scope + "\u{0}" + claim.key) else { throw APIError.idempotencyKeyInUse() }
    }

    func end(_ claim: IdempotencyClaim) {
        inFlight.remove(claim.scope + "\u{0}" + claim.key)
    }

    /// Holds `claim`'s key for the rest of the writing transaction, after any other instance's transaction with it
    /// has ended: its stored outcome is then visible to `stored`. Nothing to do with one writer (SQLite).
    static func exclude(_ db: some SQLExecutor, _ claim: IdempotencyClaim) throws {
        guard let lock = db.dialect.transactionKeyLock else { return }
        // PostgreSQL text cannot hold NUL: the unit separator joins the two.
        _ = try db.scalar(lock, [.text(claim.scope + "\u{1F}" + claim.key)])
    }

    /// The stored outcome for `claim`, marked replayed; 422 when the key was first used for another request.
    static func stored(_ db: some SQLExecutor, _ claim: IdempotencyClaim, now: String) throws -> WriteOutcome? {
        guard let stored = try db.queryOne("""
            SELECT request_hash, status, headers, body FROM idempotency_keys
            WHERE scope = ? AND key = ? AND state = 'completed' AND expires_at > ?
            """, [.text(claim.scope), .text(claim.key), .text(now)]) else { return nil }
        guard stored.text("request_hash") == claim.fingerprint else { throw APIError.idempotencyKeyReused() }
        var outcome = WriteOutcome(status: Int(stored.int("status") ?? 200), body: stored.blob("body") ?? [], replayed: true)
        if let headers = stored.text("headers"), let json = try? JSONParser.parse(Array(headers.utf8)), let members = json.objectValue {
            for (name, value) in members { if let v = value.stringValue { outcome.headers.append((name, v)) } }
        }
        return outcome
    }

    static func store(_ db: some SQLExecutor, _ claim: IdempotencyClaim, _ outcome: WriteOutcome, now: String) throws {
        let nowMilliseconds = Timestamp.parse(now) ?? 0
        var headers: [(String, JSONValue)] = []
        for (name, value) in outcome.headers where replayedHeaders.contains(name) { headers.append((name, .string(value))) }
        let dialect = db.dialect
        try db.run("""
            INSERT INTO idempotency_keys
              (scope, key, request_hash, method, path, state, status, headers, body, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, 'completed', ?, \(dialect.jsonParameter), ?, ?, ?)
            """ + dialect.upsert(key: ["scope", "key"], set: ["request_hash", "method", "path", "state", "status", "headers", "body",
                                                             "created_at", "expires_at"]), [.text(claim.scope), .text(claim.key), .text(claim.fingerprint), .text(claim.method), .text(claim.path),
                  .integer(Int64(outcome.status)), .text(String(decoding: JSONValue.object(headers).encoded, as: UTF8.self)),
                  .blob(outcome.body), .text(now), .text(Timestamp.format(epochMilliseconds: nowMilliseconds + lifetimeMilliseconds))])
    }

    /// Deletes stored outcomes past their 24 hours; how many.
    @discardableResult
    static func prune(_ db: some SQLExecutor, now: String) throws -> Int {
        try db.run("DELETE FROM idempotency_keys WHERE expires_at <= ?", [.text(now)])
    }
}

/// A set of strings behind a lock.
final class LockedSet: @unchecked Sendable {
    // `members` is only touched while `lock` is held.
    private let lock = NSLock()
    private var members = Set<String>()

    func insert(_ value: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return members.insert(value).inserted
    }

    func remove(_ value: String) {
        lock.lock(); defer { lock.unlock() }
        members.remove(value)
    }
}
