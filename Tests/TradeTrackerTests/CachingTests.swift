import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// API.md §1 "Single resources, caching and concurrency": ETag, If-None-Match / 304, HEAD, If-Match / 412 / 428.
final class CachingTests: XCTestCase {
    var api: ConventionAPI!

    override func tearDown() { api?.stop() }

    private func start(_ configure: @escaping (inout AppConfiguration) -> Void = { _ in }) throws {
        api = try ConventionAPI(configure)
    }

    private func assertStrongTag(_ tag: String?, file: StaticString = #filePath, line: UInt = #line) {
        guard let tag else { return XCTFail("no ETag", file: file, line: line) }
        XCTAssertTrue(tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count >= 3, "strong, quoted: \(tag)", file: file, line: line)
        XCTAssertFalse(tag.hasPrefix("W/"), file: file, line: line)
    }

    /// The If-None-Match rules on one URL.
    private func checkConditionalGET(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let full = try api.get(path)
        XCTAssertEqual(full.status, 200, file: file, line: line)
        XCTAssertFalse(full.body.isEmpty, file: file, line: line)
        assertStrongTag(full.headers["ETag"], file: file, line: line)
        XCTAssertEqual(full.headers["Cache-Control"], "private, no-cache", file: file, line: line)
        let tag = try XCTUnwrap(full.headers["ETag"], file: file, line: line)
        XCTAssertEqual(try api.get(path).headers["ETag"], tag, "stable while nothing changes", file: file, line: line)

        for field in [tag, "W/\(tag)", "*", "\"0000000000000000\", \(tag)", "\"a\",W/\(tag) , \"b\""] {
            let response = try api.get(path, headers: [("If-None-Match", field)])
            XCTAssertEqual(response.status, 304, "If-None-Match: \(field)", file: file, line: line)
            XCTAssertTrue(response.body.isEmpty, "304 has no body", file: file, line: line)
            XCTAssertEqual(response.headers["ETag"], tag, "304 repeats the ETag", file: file, line: line)
            XCTAssertEqual(response.headers["Cache-Control"], "private, no-cache", file: file, line: line)
        }
        for stale in ["\"0000000000000000\"", "W/\"0000000000000000\"", String(tag.dropFirst().dropLast())] {
            let response = try api.get(path, headers: [("If-None-Match", stale)])
            XCTAssertEqual(response.status, 200, "If-None-Match: \(stale)", file: file, line: line)
            XCTAssertEqual(response.body, full.body, file: file, line: line)
        }
        // HEAD: same status and headers as GET, no body; conditional too.
        let head = try api.head(path)
        XCTAssertEqual(head.status, 200, file: file, line: line)
        XCTAssertTrue(head.body.isEmpty, file: file, line: line)
        XCTAssertEqual(head.headers["ETag"], tag, file: file, line: line)
        XCTAssertEqual(head.headers["Content-Length"], String(full.body.count), file: file, line: line)
        XCTAssertEqual(head.headers["Content-Type"], "application/json; charset=utf-8", file: file, line: line)
        XCTAssertEqual(try api.head(path, headers: [("If-None-Match", tag)]).status, 304, file: file, line: line)
        // The connection is still in sync after HEAD and 304.
        XCTAssertEqual(try api.get(path).body, full.body, file: file, line: line)
    }

    func testConditionalGetOnOneRecordAListAndBySlug() throws {
        try start()
        let n = try api.createNegotiation(slug: "etag", startedOn: "2025-05-10")
        _ = try api.createRound(negotiationID: n, title: "Geneva", startsOn: "2025-05-10")
        try checkConditionalGET("/v1/negotiations/\(n)")
        try checkConditionalGET("/v1/negotiations")
        try checkConditionalGET("/v1/rounds?negotiation_id=\(n)&sort=-starts_on")
        try checkConditionalGET("/v1/negotiations/by-slug/etag")
    }

    func testListETagChangesWhenAnItemChangesAndDiffersPerQuery() throws {
        try start()
        let s = try api.createSource(title: "one")
        let before = try XCTUnwrap(try api.get("/v1/sources").headers["ETag"])
        XCTAssertNotEqual(try api.get("/v1/sources?limit=1").headers["ETag"], nil)
        XCTAssertEqual(try api.send("PATCH", "/v1/sources/\(s)", #"{"publisher":"AP"}"#).status, 200)
        let after = try api.get("/v1/sources", headers: [("If-None-Match", before)])
        XCTAssertEqual(after.status, 200, "the old list tag no longer matches")
        XCTAssertNotEqual(after.headers["ETag"], before)
    }

    func testETagChangesAfterPatchAndMatchesThePatchResponse() throws {
        try start()
        let created = try api.send("POST", "/v1/sources", #"{"title":"first"}"#)
        XCTAssertEqual(created.status, 201)
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        XCTAssertEqual(created.headers["Location"], "/v1/sources/\(id)")
        let createdTag = try XCTUnwrap(created.headers["ETag"])
        let got = try api.get("/v1/sources/\(id)")
        XCTAssertEqual(got.headers["ETag"], createdTag, "the 201's ETag is the record's")
        XCTAssertEqual(got.body, created.body)

        let patched = try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"second"}"#, headers: [("If-Match", createdTag)])
        XCTAssertEqual(patched.status, 200)
        let newTag = try XCTUnwrap(patched.headers["ETag"])
        XCTAssertNotEqual(newTag, createdTag)
        XCTAssertEqual(try patched.json()["version"]?.intValue, 2)
        XCTAssertEqual(try api.get("/v1/sources/\(id)").headers["ETag"], newTag)
        XCTAssertEqual(try api.get("/v1/sources/\(id)", headers: [("If-None-Match", createdTag)]).status, 200)
        XCTAssertEqual(try api.get("/v1/sources/\(id)", headers: [("If-None-Match", newTag)]).status, 304)
    }

    func testStaleIfMatchIs412AndChangesNothing() throws {
        try start()
        let id = try api.createSource(title: "original")
        let oldTag = try XCTUnwrap(try api.get("/v1/sources/\(id)").headers["ETag"])
        XCTAssertEqual(try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"changed by someone else"}"#).status, 200,
                       "no If-Match: last writer wins")
        let currentBody = try api.get("/v1/sources/\(id)").body

        let stalePatch = try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"mine"}"#, headers: [("If-Match", oldTag)])
        XCTAssertEqual(stalePatch.status, 412)
        XCTAssertEqual(stalePatch.problemCode, "precondition_failed")
        XCTAssertEqual(stalePatch.headers["Content-Type"], "application/problem+json")
        let staleDelete = try api.delete("/v1/sources/\(id)", headers: [("If-Match", oldTag)])
        XCTAssertEqual(staleDelete.status, 412)
        XCTAssertEqual(try api.get("/v1/sources/\(id)").body, currentBody, "nothing changed")
        let rows = try api.app.query("SELECT title, version FROM sources WHERE id = ?", [.integer(Int64(id))])
        XCTAssertEqual(rows.first?.text("title"), "changed by someone else")
        XCTAssertEqual(rows.first?.int("version"), 2)
        XCTAssertEqual(try api.count("change_log", where: "resource = 'sources' AND record_id = \(id)"), 2, "create + one update only")
    }

    func testCurrentIfMatchSucceedsForPatchAndDelete() throws {
        try start()
        let id = try api.createSource(title: "original")
        let tag = try XCTUnwrap(try api.get("/v1/sources/\(id)").headers["ETag"])
        let patched = try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"updated"}"#,
                                   headers: [("If-Match", "\"0000000000000000\", \(tag)")])
        XCTAssertEqual(patched.status, 200, "a list containing the current tag matches: \(patched.text)")
        XCTAssertEqual(try patched.json()["title"], .string("updated"))
        let newTag = try XCTUnwrap(patched.headers["ETag"])
        XCTAssertEqual(try api.delete("/v1/sources/\(id)", headers: [("If-Match", tag)]).status, 412, "the pre-patch tag is stale now")
        XCTAssertEqual(try api.delete("/v1/sources/\(id)", headers: [("If-Match", newTag)]).status, 204)
        XCTAssertEqual(try api.get("/v1/sources/\(id)").status, 404)
        XCTAssertEqual(try api.count("sources"), 0)
    }

    func testIfMatchStarMatchesAnyExistingRecord() throws {
        try start()
        let id = try api.createSource(title: "x")
        XCTAssertEqual(try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"y"}"#, headers: [("If-Match", "*")]).status, 200)
        XCTAssertEqual(try api.delete("/v1/sources/\(id)", headers: [("If-Match", "*")]).status, 204)
        XCTAssertEqual(try api.delete("/v1/sources/\(id)", headers: [("If-Match", "*")]).status, 404)
    }

    func testWeakTagInIfMatchNeverMatches() throws {
        try start()
        let id = try api.createSource(title: "x")
        let tag = try XCTUnwrap(try api.get("/v1/sources/\(id)").headers["ETag"])
        let patch = try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"y"}"#, headers: [("If-Match", "W/\(tag)")])
        XCTAssertEqual(patch.status, 412, "If-Match uses the strong comparison")
        XCTAssertEqual(try api.delete("/v1/sources/\(id)", headers: [("If-Match", "W/\(tag)")]).status, 412)
        XCTAssertEqual(try api.count("sources", where: "title = 'x' AND version = 1"), 1)
    }

    func testRequireIfMatchAnswers428WithoutIt() throws {
        try start { $0.requireIfMatch = true }
        let id = try api.createSource(title: "x")
        let patch = try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"y"}"#)
        XCTAssertEqual(patch.status, 428)
        XCTAssertEqual(patch.problemCode, "precondition_required")
        let delete = try api.delete("/v1/sources/\(id)")
        XCTAssertEqual(delete.status, 428)
        XCTAssertEqual(try api.count("sources", where: "title = 'x' AND version = 1"), 1, "nothing changed")
        XCTAssertEqual(try api.send("POST", "/v1/sources", #"{"title":"creates need no If-Match"}"#).status, 201)

        let tag = try XCTUnwrap(try api.get("/v1/sources/\(id)").headers["ETag"])
        XCTAssertEqual(try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"z"}"#, headers: [("If-Match", "W/\(tag)")]).status, 412)
        let ok = try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"z"}"#, headers: [("If-Match", tag)])
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(try api.delete("/v1/sources/\(id)", headers: [("If-Match", try XCTUnwrap(ok.headers["ETag"]))]).status, 204)
    }

    func testVersionCountsEveryChangeAndNoOpPatchKeepsTheTag() throws {
        try start()
        let id = try api.createSource(title: "v1")
        for (i, title) in ["v2", "v3", "v4"].enumerated() {
            let r = try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"\#(title)"}"#)
            XCTAssertEqual(try r.json()["version"]?.intValue, i + 2)
        }
        let tag = try XCTUnwrap(try api.get("/v1/sources/\(id)").headers["ETag"])
        let same = try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"v4"}"#, headers: [("If-Match", tag)])
        XCTAssertEqual(same.status, 200)
        XCTAssertEqual(try same.json()["version"]?.intValue, 4, "a patch that changes nothing is not a new version")
        XCTAssertEqual(same.headers["ETag"], tag)
    }
}
