import JSON
import XCTest
import SQLite
@testable import TradeTracker

/// The write service fills caches and wakes the feed only after COMMIT: a write whose commit fails leaves no trace
/// anywhere, even when the next insert reuses its id (issue 7's bug: the failed record's body was served as the next).
final class WriteServiceTests: ResourceAPITestCase {
    /// Makes the writer's next COMMITs fail (SQLite rolls back) while `failing` is set.
    private func failCommits(_ failing: Bool) throws {
        try app.sqlitePool().withWriter { db in db.setCommitHook(failing ? { true } : nil) }
    }

    func testAFailedCommitIsNeverServed() throws {
        let before = try api.get("/v1/changes?since=now").json()["last_seq"]?.intValue
        let statusTag = try api.get("/v1/status").headers["ETag"]
        try failCommits(true)
        let failed = try api.post("/v1/sources", #"{"title":"The write that never committed"}"#)
        XCTAssertEqual(failed.status / 100, 5, failed.text)
        XCTAssertEqual(failed.headers["Content-Type"], "application/problem+json")
        XCTAssertFalse(failed.text.contains("never committed"), "the failed record is not echoed")
        try failCommits(false)

        XCTAssertEqual(try api.get("/v1/changes?since=now").json()["last_seq"]?.intValue, before, "the feed never heard of it")
        XCTAssertEqual(try api.get("/v1/status").headers["ETag"], statusTag, "the status ETag did not move")

        // The next insert gets the same id (SQLite rolled the failed one back) and must answer with its own body.
        let created = try api.post("/v1/sources", #"{"title":"The write that did commit"}"#)
        XCTAssertEqual(created.status, 201, created.text)
        let json = try created.json()
        XCTAssertEqual(json["title"], .string("The write that did commit"))
        let id = try XCTUnwrap(json["id"]?.intValue)
        let read = try api.get("/v1/sources/\(id)")
        XCTAssertEqual(try read.json()["title"], .string("The write that did commit"))
        XCTAssertEqual(read.headers["ETag"], created.headers["ETag"])
        let listed = try api.get("/v1/sources?limit=500").json()["data"]?.arrayValue ?? []
        XCTAssertFalse(listed.contains { $0["title"] == .string("The write that never committed") })
        let history = try api.get("/v1/sources/\(id)/history").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(history.count, 1)
        XCTAssertEqual(history.first?["changes"]?["title"]?["after"], .string("The write that did commit"))
    }

    func testAFailedCommitOfAPatchKeepsTheOldRecordAndETag() throws {
        let id = try api.source(title: "Original")
        let original = try api.get("/v1/sources/\(id)")
        try failCommits(true)
        let failed = try api.patch("/v1/sources/\(id)", #"{"title":"Changed but rolled back"}"#)
        XCTAssertEqual(failed.status / 100, 5, failed.text)
        try failCommits(false)
        let after = try api.get("/v1/sources/\(id)")
        XCTAssertEqual(after.body, original.body)
        XCTAssertEqual(after.headers["ETag"], original.headers["ETag"])
        // A later successful patch reaches version 2 with its own content, not the rolled-back one.
        let patched = try api.patch("/v1/sources/\(id)", #"{"title":"Changed for real"}"#)
        XCTAssertEqual(try patched.json()["version"], .int(2))
        XCTAssertEqual(try api.get("/v1/sources/\(id)").json()["title"], .string("Changed for real"))
    }

    func testAFailedCommitStoresNoIdempotentReplay() throws {
        try failCommits(true)
        let failed = try api.post("/v1/sources", #"{"title":"Retried"}"#, headers: [("Idempotency-Key", "retry-after-failure")])
        XCTAssertEqual(failed.status / 100, 5)
        try failCommits(false)
        let retried = try api.post("/v1/sources", #"{"title":"Retried"}"#, headers: [("Idempotency-Key", "retry-after-failure")])
        XCTAssertEqual(retried.status, 201, retried.text)
        XCTAssertNil(retried.headers["Idempotent-Replayed"], "nothing of the failed attempt was stored to replay")
        XCTAssertEqual(try app.count("sources"), 1)
    }
}
