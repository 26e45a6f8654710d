import Foundation
import HTTPServer
import SQLite

/// Idempotency-Key on POST (API.md §1): replays the stored first (successful) response for the same key and
/// body within 24 h, 422 for the same key with another body, 409 while the first request is still running.
final class IdempotencyStore: Sendable {
    static let lifetimeMilliseconds: Int64 = 24 * 3600 * 1000
    static let replayedHeaders = ["Content-Type", "Location", "ETag"]

    private let inFlight = LockedSet()

    /// Lets a handler store its response inside the transaction that creates the record.
    struct Recorder {
        fileprivate let scope: String
        fileprivate let key: String
        fileprivate let hash: String
        fileprivate let request: HTTPRequest
        fileprivate let clock: Clock

        func record(_ db: SQLite.Connection, _ response: HTTPResponse) throws {
            try IdempotencyStore.store(db, scope: scope, key: key, hash: hash, request: request, response: response, clock: clock)
        }
    }

    /// Runs `body` once per (caller, key); `body` gets a recorder when the request carries a key.
    func run(_ request: HTTPRequest, context: APIContext, _ body: (Recorder?) throws -> HTTPResponse) throws -> HTTPResponse {
        guard let key = request.headers["Idempotency-Key"] else { return try body(nil) }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw HTTPError(status: 400, code: "invalid_idempotency_key", title: "Invalid Idempotency-Key",
                            detail: "Idempotency-Key must be 1 to 255 visible ASCII characters")
        }
        let scope = request.attributes[PrincipalKey.self]?.name ?? ""
        let hash = SipHash.fixed.hash(Array("\(request.method) \(request.path)\n".utf8) + request.body).paddedHex
        let slot = scope + "\u{0}" + key
        guard inFlight.insert(slot) else {
            throw APIError.conflict("idempotency_key_in_use", "a request with this Idempotency-Key is still being processed; retry later")
        }
        defer { inFlight.remove(slot) }
        let now = context.clock.now()
        if let stored = try context.read({ try $0.queryOne("""
            SELECT request_hash, status, headers, body FROM idempotency_keys
            WHERE scope = ? AND key = ? AND state = 'completed' AND expires_at > ?
            """, [.text(scope), .text(key), .text(now)]) }) {
            guard stored.text("request_hash") == hash else {
                throw HTTPError(status: 422, code: "idempotency_key_reused", title: "Idempotency-Key reused",
                                detail: "this Idempotency-Key was first used with a different request; use a new key")
            }
            return Self.replay(stored)
        }
        // Only a success is stored (in the transaction that creates the record): as with Stripe, a refused request
        // saved nothing, so a retry with the same key after fixing the cause runs again.
        return try body(Recorder(scope: scope, key: key, hash: hash, request: request, clock: context.clock))
    }

    private static func replay(_ stored: Row) -> HTTPResponse {
        var response = HTTPResponse(status: Int(stored.int("status") ?? 200), body: stored.blob("body") ?? [])
        if let headers = stored.text("headers"), let json = try? JSONParser.parse(Array(headers.utf8)), let members = json.objectValue {
            for (name, value) in members { if let v = value.stringValue { response.headers.add(name, v) } }
        }
        response.headers.add("Idempotent-Replayed", "true")
        return response
    }

    fileprivate static func store(_ db: SQLite.Connection, scope: String, key: String, hash: String, request: HTTPRequest,
                                  response: HTTPResponse, clock: Clock) throws {
        let now = clock.nowMilliseconds()
        var headers: [(String, JSONValue)] = []
        for name in replayedHeaders { if let value = response.headers[name] { headers.append((name, .string(value))) } }
        try db.run("DELETE FROM idempotency_keys WHERE expires_at <= ?", [.text(Timestamp.format(epochMilliseconds: now))])
        try db.run("""
            INSERT OR REPLACE INTO idempotency_keys
              (scope, key, request_hash, method, path, state, status, headers, body, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, 'completed', ?, ?, ?, ?, ?)
            """, [.text(scope), .text(key), .text(hash), .text(request.method), .text(request.path),
                  .integer(Int64(response.status)), .text(String(decoding: JSONValue.object(headers).encoded, as: UTF8.self)),
                  .blob(response.body), .text(Timestamp.format(epochMilliseconds: now)),
                  .text(Timestamp.format(epochMilliseconds: now + lifetimeMilliseconds))])
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
