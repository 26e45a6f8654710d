import JSON
import XCTest
import Foundation
import HTTPServer
@testable import TradeTracker

/// API.md §1 `Idempotency-Key` on POST: replay, conflict, per-token scope, in-flight 409.
final class IdempotencyTests: XCTestCase {
    var api: ConventionAPI!

    override func setUpWithError() throws {
        api = try ConventionAPI {
            $0.tokens = ConventionTokens.standard + ",other:write:\(ConventionTokens.otherWriter)"
        }
    }

    override func tearDown() { api.stop() }

    private func post(_ body: String, key: String?, token: String = ConventionTokens.writer, path: String = "/v1/sources") throws
        -> TestResponse {
        try api.send("POST", path, body, token: token, headers: key.map { [("Idempotency-Key", $0)] } ?? [])
    }

    func testSameKeyAndBodyReplaysTheFirstResponseAndCreatesOnce() throws {
        let body = #"{"title":"Joint statement","publisher":"White House"}"#
        let first = try post(body, key: "key-1")
        XCTAssertEqual(first.status, 201)
        XCTAssertNil(first.headers["Idempotent-Replayed"], "the first answer is not a replay")
        for _ in 0..<2 {
            let again = try post(body, key: "key-1")
            XCTAssertEqual(again.status, 201)
            XCTAssertEqual(again.body, first.body, "byte-for-byte the first body")
            XCTAssertEqual(again.headers["Idempotent-Replayed"], "true")
            XCTAssertEqual(again.headers["Location"], first.headers["Location"])
            XCTAssertEqual(again.headers["ETag"], first.headers["ETag"])
            XCTAssertEqual(again.headers["Content-Type"], "application/json; charset=utf-8")
        }
        XCTAssertEqual(try api.count("sources"), 1, "only one record")
        XCTAssertEqual(try api.count("change_log", where: "resource = 'sources'"), 1, "only one change row")
    }

    func testSameKeyWithAnotherBodyIs422() throws {
        XCTAssertEqual(try post(#"{"title":"A"}"#, key: "k").status, 201)
        let other = try post(#"{"title":"B"}"#, key: "k")
        XCTAssertEqual(other.status, 422)
        XCTAssertEqual(other.problemCode, "idempotency_key_reused")
        XCTAssertNil(other.headers["Idempotent-Replayed"])
        let otherPath = try post(#"{"title":"A"}"#, key: "k", path: "/v1/negotiations")
        XCTAssertEqual(otherPath.status, 422, "the key is bound to the first request's path too: \(otherPath.text)")
        XCTAssertEqual(try api.count("sources"), 1)
        XCTAssertEqual(try api.count("sources", where: "title = 'A'"), 1)
    }

    func testDifferentKeysAndNoKeyCreateSeparateRecords() throws {
        let body = #"{"title":"same body"}"#
        let a = try post(body, key: "key-a")
        let b = try post(body, key: "key-b")
        XCTAssertEqual(a.status, 201)
        XCTAssertEqual(b.status, 201)
        XCTAssertNotEqual(try a.json()["id"], try b.json()["id"])
        XCTAssertNil(b.headers["Idempotent-Replayed"])
        XCTAssertEqual(try post(body, key: nil).status, 201)
        XCTAssertEqual(try post(body, key: nil).status, 201, "without a key every POST creates")
        XCTAssertEqual(try api.count("sources"), 4)
    }

    func testKeysAreScopedPerToken() throws {
        let body = #"{"title":"shared key"}"#
        let mine = try post(body, key: "shared", token: ConventionTokens.writer)
        let theirs = try post(body, key: "shared", token: ConventionTokens.otherWriter)
        XCTAssertEqual(mine.status, 201)
        XCTAssertEqual(theirs.status, 201)
        XCTAssertNil(theirs.headers["Idempotent-Replayed"], "another token's key is another key")
        XCTAssertNotEqual(try mine.json()["id"], try theirs.json()["id"])
        XCTAssertEqual(try api.count("sources"), 2)
        let rows = try api.app.query("SELECT actor FROM change_log WHERE resource = 'sources' ORDER BY seq")
        XCTAssertEqual(rows.map { $0.text("actor") }, ["writer", "other"])
        // Each token still gets its own replay.
        XCTAssertEqual(try post(body, key: "shared", token: ConventionTokens.otherWriter).headers["Idempotent-Replayed"], "true")
        XCTAssertEqual(try post(#"{"title":"different"}"#, key: "shared", token: ConventionTokens.writer).status, 422)
        XCTAssertEqual(try api.count("sources"), 2)
    }

    /// As with Stripe, a refused request stores nothing: the same key may be retried once the body is fixed.
    func testRefusedRequestIsNotStoredSoTheKeyCanBeRetriedFixed() throws {
        let body = #"{"title":"","publisher":"x","colour":"red"}"#
        let first = try post(body, key: "bad-1")
        XCTAssertEqual(first.status, 422)
        XCTAssertEqual(first.problemCode, "validation_failed")
        let again = try post(body, key: "bad-1")
        XCTAssertEqual(again.status, 422)
        XCTAssertNil(again.headers["Idempotent-Replayed"], "a refusal is answered afresh, not replayed")
        XCTAssertEqual(again.headers["Content-Type"], "application/problem+json")
        XCTAssertEqual(try api.count("sources"), 0)
        XCTAssertEqual(try api.app.query("SELECT * FROM idempotency_keys").count, 0)
        let fixed = try post(#"{"title":"fixed","publisher":"x"}"#, key: "bad-1")
        XCTAssertEqual(fixed.status, 201)
        XCTAssertNil(fixed.headers["Idempotent-Replayed"])
        XCTAssertEqual(try post(#"{"title":"fixed","publisher":"x"}"#, key: "bad-1").headers["Idempotent-Replayed"], "true")
        XCTAssertEqual(try api.count("sources"), 1)
    }

    func testMalformedKeyIs400() throws {
        for key in [String(repeating: "k", count: 256), "has space"] {
            let response = try post(#"{"title":"x"}"#, key: key)
            XCTAssertEqual(response.status, 400, key)
            XCTAssertEqual(response.problemCode, "invalid_idempotency_key")
        }
        XCTAssertEqual(try post(#"{"title":"x"}"#, key: String(repeating: "k", count: 255)).status, 201)
        XCTAssertEqual(try api.count("sources"), 1)
    }

    func testKeyWorksOnSubResourcePosts() throws {
        let n = try api.createNegotiation(slug: "idem")
        let issue = try api.create("/v1/issues", #"{"negotiation_id":\#(n),"category":"tariffs","title":"Tariffs"}"#)
        let body = #"{"note":"progress","occurred_on":"2025-05-12","status":"in_discussion"}"#
        let first = try post(body, key: "u1", path: "/v1/issues/\(issue)/updates")
        XCTAssertEqual(first.status, 201, first.text)
        let again = try post(body, key: "u1", path: "/v1/issues/\(issue)/updates")
        XCTAssertEqual(again.status, 201)
        XCTAssertEqual(again.body, first.body)
        XCTAssertEqual(again.headers["Idempotent-Replayed"], "true")
        XCTAssertEqual(try api.count("issue_updates"), 1)
    }

    func testConcurrentRequestsWithOneKeyNeverCreateTwoRecords() throws {
        let port = api.app.port
        let body = Array(#"{"title":"raced"}"#.utf8)
        for round in 0..<8 {
            let key = "race-\(round)"
            let results = ConcurrentResults<(status: Int, replayed: Bool, code: String?, body: [UInt8])>()
            DispatchQueue.concurrentPerform(iterations: 2) { _ in
                let client = TestClient(port: port)
                do {
                    try client.connect()
                    let r = try client.request("POST", "/v1/sources", headers: [
                        ("Content-Type", "application/json"), ("Authorization", "Bearer \(ConventionTokens.writer)"),
                        ("Idempotency-Key", key),
                    ], body: body)
                    results.append((r.status, r.headers["Idempotent-Replayed"] == "true", r.problemCode, r.body))
                } catch {
                    results.append((-1, false, "\(error)", []))
                }
            }
            let all = results.all
            XCTAssertEqual(all.count, 2)
            let fresh = all.filter { $0.status == 201 && !$0.replayed }
            XCTAssertEqual(fresh.count, 1, "exactly one request creates: \(all.map { ($0.status, $0.replayed, $0.code) })")
            for other in all where !(other.status == 201 && !other.replayed) {
                if other.status == 409 {
                    XCTAssertEqual(other.code, "idempotency_key_in_use")
                } else {
                    XCTAssertEqual(other.status, 201)
                    XCTAssertTrue(other.replayed)
                    XCTAssertEqual(other.body, fresh.first?.body)
                }
            }
            XCTAssertEqual(try api.count("sources"), round + 1, "never two records for one key")
        }
    }

    func testKeysExpireAfter24Hours() throws {
        let clock = SteppingTestClock(start: "2025-05-12T08:00:00Z")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-idem-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = TestApp.configuration(directory: directory) { $0.tokens = ConventionTokens.standard }
        let app = try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .error),
                                      clock: TimeSource { clock.milliseconds })
        try app.start()
        defer { app.shutdown() }
        let client = TestClient(port: app.port)
        func post() throws -> TestResponse {
            try client.request("POST", "/v1/sources", json: #"{"title":"daily"}"#,
                               headers: ConventionAPI.auth(ConventionTokens.writer) + [("Idempotency-Key", "day-key")])
        }
        let first = try post()
        XCTAssertEqual(first.status, 201)
        clock.advance(milliseconds: 24 * 3600 * 1000 - 1)
        let replay = try post()
        XCTAssertEqual(replay.headers["Idempotent-Replayed"], "true", "still within 24 h")
        XCTAssertEqual(replay.body, first.body)
        clock.advance(milliseconds: 1)
        let fresh = try post()
        XCTAssertEqual(fresh.status, 201)
        XCTAssertNil(fresh.headers["Idempotent-Replayed"], "after 24 h the key is forgotten")
        XCTAssertNotEqual(try fresh.json()["id"], try first.json()["id"])
    }
}

/// A clock tests move by hand.
final class SteppingTestClock: @unchecked Sendable {
    // `value` is only touched while `lock` is held.
    private let lock = NSLock()
    private var value: Int64

    init(start: String) { value = Timestamp.parse(start) ?? 0 }

    var milliseconds: Int64 {
        lock.lock(); defer { lock.unlock() }
        return value
    }

    func advance(milliseconds: Int64) {
        lock.lock(); defer { lock.unlock() }
        value += milliseconds
    }
}
