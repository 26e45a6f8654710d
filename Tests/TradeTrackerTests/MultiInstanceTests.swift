import Foundation
import JSON
import PGTestSupport
import XCTest
@testable import TradeTracker

/// Two instances on one PostgreSQL database (API.md §5b): what one writes the other serves, its event stream hears
/// the other's commits (LISTEN/NOTIFY), and cursors, ETags and Idempotency-Keys made by one work on the other.
/// Needs `TT_POSTGRES_URL` (`.ci/run` starts a cluster); skipped without it.
final class MultiInstanceTests: XCTestCase {
    private var schema: PGTestDatabase?
    private var a: TestApp!
    private var b: TestApp!

    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["TT_POSTGRES_URL"] != nil else {
            throw XCTSkip("needs a PostgreSQL server: set TT_POSTGRES_URL (scripts/pg-test-cluster.sh start)")
        }
        let schema = try TestApp.postgresSchema()
        self.schema = schema
        let start = { try TestApp { $0.databasePath = schema.scopedURL; $0.tokens = Fixtures.tokens } }
        a = try start()
        b = try start()
    }

    override func tearDown() {
        b?.stop()
        a?.stop()
        schema?.drop()
    }

    func testAWriteThroughOneInstanceIsServedStreamedAndReplayedByTheOther() throws {
        let apiA = ResourceAPI(a), apiB = ResourceAPI(b)
        let stream = try EventStreamClient(port: b.port, path: "/v1/changes")
        defer { stream.close() }
        XCTAssertEqual(stream.status, 200, stream.text)
        try stream.waitForRetry()

        let key = UUID().uuidString
        let created = try apiA.post("/v1/sources", #"{"title":"Geneva joint statement"}"#, headers: [("Idempotency-Key", key)])
        XCTAssertEqual(created.status, 201, created.text)
        let id = try XCTUnwrap(created.json()["id"]?.intValue)

        // B's event stream hears A's commit, through A's NOTIFY and B's listener.
        // Within 2 s: well under the 5 s in which something else would wake the feed anyway.
        let event = try stream.nextEvent(timeout: .seconds(2))
        XCTAssertEqual(event.event, "created")
        XCTAssertEqual(try event.json()["resource"], .string("sources"))
        XCTAssertEqual(try event.json()["id"], .int(id))

        // B serves the record A wrote, with the same bytes and ETag; A's ETag is current on B.
        let shownA = try apiA.get("/v1/sources/\(id)"), shownB = try apiB.get("/v1/sources/\(id)")
        XCTAssertEqual(shownB.status, 200)
        XCTAssertEqual(shownB.text, shownA.text)
        let etag = try XCTUnwrap(shownA.headers["ETag"])
        XCTAssertEqual(shownB.headers["ETag"], etag)
        XCTAssertEqual(try apiB.get("/v1/sources/\(id)", headers: [("If-None-Match", etag)]).status, 304)

        // The same Idempotency-Key on B answers A's stored response and stores nothing new.
        let replayed = try apiB.post("/v1/sources", #"{"title":"Geneva joint statement"}"#, headers: [("Idempotency-Key", key)])
        XCTAssertEqual(replayed.status, 201, replayed.text)
        XCTAssertEqual(replayed.headers["Idempotent-Replayed"], "true")
        XCTAssertEqual(try replayed.json()["id"]?.intValue, id)
        XCTAssertEqual(try apiB.get("/v1/sources?limit=100").json()["data"]?.arrayValue?.count, 1)

        // A write through B with If-Match of the ETag A served.
        let patched = try apiB.patch("/v1/sources/\(id)", #"{"publisher":"Xinhua"}"#, headers: [("If-Match", etag)])
        XCTAssertEqual(patched.status, 200, patched.text)
        XCTAssertEqual(try apiA.get("/v1/sources/\(id)").json()["publisher"], .string("Xinhua"))
    }

    func testOneIdempotencyKeySentToBothInstancesAtOnceCreatesOneRecord() throws {
        let key = UUID().uuidString
        let answers = LockedList<(status: Int, id: Int?)>()
        let group = DispatchGroup()
        let apps: [TestApp] = [a, b]
        for i in 0..<8 {
            group.enter()
            let app = apps[i % 2]
            Thread.detachNewThread {
                defer { group.leave() }
                let response = try? ResourceAPI(app).post("/v1/sources", #"{"title":"Kuala Lumpur framework"}"#,
                                                          headers: [("Idempotency-Key", key)])
                answers.append((response?.status ?? -1, try? response?.json()["id"]?.intValue))
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        let all = answers.items
        XCTAssertEqual(all.count, 8)
        // Each answer is the one outcome (201 with its id, first or replayed), or 409 while the key is in flight on
        // the instance asked; never a second record.
        XCTAssertEqual(Set(all.filter { $0.status == 201 }.compactMap(\.id)).count, 1, "\(all)")
        XCTAssertTrue(all.allSatisfy { $0.status == 201 || $0.status == 409 }, "\(all)")
        XCTAssertEqual(try ResourceAPI(a).get("/v1/sources?limit=100").json()["data"]?.arrayValue?.count, 1, "one record for one key")
    }

    func testACursorFromOneInstancePagesOnTheOther() throws {
        let apiA = ResourceAPI(a), apiB = ResourceAPI(b)
        var ids: [Int] = []
        for i in 0..<3 { ids.append(try apiA.source(title: "Round \(i) readout")) }
        let first = try apiA.get("/v1/sources?limit=2").json()
        XCTAssertEqual(first["data"]?.arrayValue?.compactMap { $0["id"]?.intValue }, Array(ids.prefix(2)))
        let cursor = try XCTUnwrap(first["next_cursor"]?.stringValue)
        let query = cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor
        let second = try apiB.get("/v1/sources?limit=2&cursor=\(query)")
        XCTAssertEqual(second.status, 200, second.text)
        XCTAssertEqual(try second.json()["data"]?.arrayValue?.compactMap { $0["id"]?.intValue }, [ids[2]])
    }

    func testInstancesStartingTogetherAgreeOnOneCursorKey() throws {
        // Two more instances started at the same moment on a fresh database: both must read the one key stored.
        let fresh = try TestApp.postgresSchema()
        defer { fresh.drop() }
        let started = LockedList<TestApp>()
        let group = DispatchGroup()
        for _ in 0..<2 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                if let app = try? TestApp({ $0.databasePath = fresh.scopedURL; $0.tokens = Fixtures.tokens }) {
                    started.append(app)
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        let apps = started.items
        defer { apps.forEach { $0.stop() } }
        XCTAssertEqual(apps.count, 2, "both instances started (and migrated) on one empty database")
        guard apps.count == 2 else { return }
        let apiA = ResourceAPI(apps[0]), apiB = ResourceAPI(apps[1])
        for i in 0..<2 { _ = try apiA.source(title: "Busan \(i)") }
        let cursor = try XCTUnwrap(try apiA.get("/v1/sources?limit=1").json()["next_cursor"]?.stringValue)
        let query = cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor
        XCTAssertEqual(try apiB.get("/v1/sources?limit=1&cursor=\(query)").status, 200)
    }
}
