import Foundation
import JSON
import PGTestSupport
import PostgreSQL
import XCTest
@testable import TradeTracker

/// The PostgreSQL server goes away under a serving instance and comes back (issue 13, item 6): reads, writes and
/// `/readyz` answer 503 with Retry-After at once (never a hang), `/healthz` stays 200, and when the server is back the
/// same instance serves again by itself — readers through the pool, the writer's own connection, the change listener
/// — with every write acknowledged before the outage still there. The cluster is the test's own (its data directory
/// and port), so stopping it disturbs no other test. Skipped without TT_POSTGRES_URL or PostgreSQL's binaries.
final class PostgresOutageTests: XCTestCase {
    /// Given in the URL (trust authentication ignores it) to check that no answer or log line shows it.
    private static let password = "outage-secret-7f3a"

    /// No answer while the server is away may take longer than this: every wait on the way is bounded.
    private static let promptly: TimeInterval = 5

    func testTheServerGoingAwayAnswers503AndTheInstanceRecoversByItself() throws {
        let cluster = try PGPrivateCluster()
        defer { cluster.remove() }
        let app = try Self.app(on: cluster)
        defer { app.stop() }
        let api = ResourceAPI(app)
        let stream = try EventStreamClient(port: app.port, path: "/v1/changes")
        defer { stream.close() }
        XCTAssertEqual(stream.status, 200, stream.text)
        try stream.waitForRetry()

        // Before: a write and a read work.
        var acknowledged: [Int] = []
        let first = try api.post("/v1/sources", #"{"title":"Geneva joint statement"}"#)
        XCTAssertEqual(first.status, 201, first.text)
        acknowledged.append(try XCTUnwrap(first.json()["id"]?.intValue))
        XCTAssertEqual(try api.get("/v1/sources/\(acknowledged[0])").status, 200)
        XCTAssertEqual(try api.get("/readyz").status, 200)
        XCTAssertEqual(try stream.nextEvent(timeout: .seconds(5)).json()["id"]?.intValue, acknowledged[0])

        try cluster.stopServer()

        for path in ["/v1/sources/\(acknowledged[0])", "/v1/sources?limit=10"] {
            let (read, seconds) = try timed { try api.get(path) }
            assertUnreachable(read, "GET \(path)", seconds: seconds)
        }
        let key = UUID().uuidString
        let (refused, seconds) = try timed {
            try api.post("/v1/sources", #"{"title":"Written while the server is away"}"#, headers: [("Idempotency-Key", key)])
        }
        assertUnreachable(refused, "POST /v1/sources", seconds: seconds)

        let (notReady, readySeconds) = try timed { try api.get("/readyz") }
        XCTAssertEqual(notReady.status, 503, notReady.text)
        XCTAssertNotNil(notReady.headers["Retry-After"])
        XCTAssertLessThan(readySeconds, Self.promptly)
        let checks = try notReady.json()["checks"]
        XCTAssertEqual(checks?["database_open"], .bool(false))
        let reason = try XCTUnwrap(checks?["database_problem"]?.stringValue, notReady.text)
        XCTAssertTrue(reason.hasPrefix("the database is unreachable: "), reason)
        XCTAssertTrue(reason.contains("127.0.0.1:\(cluster.port)"), "the reason names the server: \(reason)")
        XCTAssertFalse(notReady.text.contains(Self.password), notReady.text)

        let health = try api.get("/healthz")
        XCTAssertEqual(health.status, 200, health.text)

        try cluster.startServer()

        // The same instance, not restarted: the pool's readers, the writer's connection and /readyz recover.
        XCTAssertTrue(eventually(timeout: 10) { (try? api.get("/readyz").status) == 200 }, "/readyz is not 200 again within 10 s")
        let read = try api.get("/v1/sources/\(acknowledged[0])")
        XCTAssertEqual(read.status, 200, read.text)
        // The refused write is retried with its key: it runs now (its first attempt never committed).
        let retried = try api.post("/v1/sources", #"{"title":"Written while the server is away"}"#, headers: [("Idempotency-Key", key)])
        XCTAssertEqual(retried.status, 201, retried.text)
        XCTAssertNil(retried.headers["Idempotent-Replayed"])
        acknowledged.append(try XCTUnwrap(retried.json()["id"]?.intValue))
        let after = try api.post("/v1/sources", #"{"title":"Written after the server came back"}"#)
        XCTAssertEqual(after.status, 201, after.text)
        acknowledged.append(try XCTUnwrap(after.json()["id"]?.intValue))

        // The event stream, open through the outage, hears the writes made after it (the listener reconnected).
        var heard: [Int] = []
        while heard.count < 2 {
            let event = try stream.nextEvent(timeout: .seconds(5))
            if let id = try event.json()["id"]?.intValue { heard.append(id) }
        }
        XCTAssertEqual(heard, Array(acknowledged[1...]))

        // Every acknowledged write is there, and nothing else.
        let listed = try api.get("/v1/sources?limit=100")
        XCTAssertEqual(listed.status, 200, listed.text)
        XCTAssertEqual(try listed.json()["data"]?.arrayValue?.compactMap { $0["id"]?.intValue }.sorted(), acknowledged.sorted())
    }

    /// A write whose COMMIT is under way when the server goes down cannot know whether it committed: it hears 503,
    /// never a success, and its retry with the same Idempotency-Key gets the one true outcome once the server is back.
    func testAWriteWhoseCommitGetsNoAnswerIsA503AndItsRetryHasTheTrueOutcome() throws {
        let cluster = try PGPrivateCluster()
        defer { cluster.remove() }
        let app = try Self.app(on: cluster)
        defer { app.stop() }
        // A deferred constraint trigger runs at COMMIT: this one holds that COMMIT for a while, so the server can be
        // stopped while it waits for the answer.
        let admin = try PGConnection(cluster.url)
        defer { admin.close() }
        try admin.execute("""
            CREATE FUNCTION outage_test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.title = 'slow commit' THEN PERFORM pg_sleep(20); END IF;
                RETURN NULL;
            END $$;
            CREATE CONSTRAINT TRIGGER outage_test_slow_commit AFTER INSERT ON sources
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION outage_test_slow_commit();
            """)
        let key = UUID().uuidString
        let answered = DispatchSemaphore(value: 0)
        let post = Handoff(ResourceAPI(app))
        Thread.detachNewThread {
            post.response = try? post.api.post("/v1/sources", #"{"title":"slow commit"}"#, headers: [("Idempotency-Key", key)])
            answered.signal()
        }
        let committing = eventually(timeout: 10) {
            (try? admin.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")) == .integer(1)
        }
        XCTAssertTrue(committing, "the write's COMMIT did not reach the trigger")
        let stopped = Date()
        try cluster.stopServer()
        XCTAssertEqual(answered.wait(timeout: .now() + .seconds(10)), .success, "the write got no answer")
        let refused = try XCTUnwrap(post.response)
        assertUnreachable(refused, "POST during COMMIT", seconds: Date().timeIntervalSince(stopped))

        try cluster.startServer()
        let api = ResourceAPI(app)
        XCTAssertTrue(eventually(timeout: 10) { (try? api.get("/readyz").status) == 200 }, "/readyz is not 200 again within 10 s")
        // This COMMIT was cut off before it finished, so the write is not there; the retry stores it once.
        XCTAssertEqual(try api.get("/v1/sources?limit=100").json()["data"]?.arrayValue?.count, 0)
        let reconnected = try PGConnection(cluster.url)
        defer { reconnected.close() }
        try reconnected.execute("DROP TRIGGER outage_test_slow_commit ON sources")
        let retried = try api.post("/v1/sources", #"{"title":"slow commit"}"#, headers: [("Idempotency-Key", key)])
        XCTAssertEqual(retried.status, 201, retried.text)
        let replayed = try api.post("/v1/sources", #"{"title":"slow commit"}"#, headers: [("Idempotency-Key", key)])
        XCTAssertEqual(replayed.headers["Idempotent-Replayed"], "true")
        XCTAssertEqual(try api.get("/v1/sources?limit=100").json()["data"]?.arrayValue?.count, 1)
    }

    /// The app on `cluster`, through a URL with a password in it and a short connect timeout.
    private static func app(on cluster: PGPrivateCluster) throws -> TestApp {
        let url = cluster.url.replacingOccurrences(of: "trade_tracker@", with: "trade_tracker:\(password)@") + "?connect_timeout=2"
        return try TestApp { $0.databasePath = url; $0.tokens = Fixtures.tokens }
    }

    private func assertUnreachable(_ response: TestResponse, _ request: String, seconds: TimeInterval,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, 503, "\(request): \(response.text)", file: file, line: line)
        XCTAssertNotNil(response.headers["Retry-After"], "\(request) has no Retry-After", file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/problem+json", request, file: file, line: line)
        XCTAssertEqual(try? response.json()["detail"], .string(StorageErrors.unreachable), "\(request): \(response.text)", file: file, line: line)
        XCTAssertFalse(response.text.contains(Self.password), response.text, file: file, line: line)
        XCTAssertLessThan(seconds, Self.promptly, "\(request) took \(seconds) s", file: file, line: line)
    }

    private func timed<T>(_ body: () throws -> T) rethrows -> (T, TimeInterval) {
        let started = Date()
        let result = try body()
        return (result, Date().timeIntervalSince(started))
    }
}

/// A client used by one other thread, and what it was answered; the semaphore the thread signals orders the accesses.
private final class Handoff: @unchecked Sendable {
    let api: ResourceAPI
    var response: TestResponse?

    init(_ api: ResourceAPI) { self.api = api }
}
