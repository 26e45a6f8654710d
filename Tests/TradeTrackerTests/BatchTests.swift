import XCTest
import JSON
@testable import TradeTracker

/// `POST /v1/batch` (API.md §1 "Batches"): in order, one transaction, all or nothing, `$k.id` references.
final class BatchTests: ResourceAPITestCase {
    private func batch(_ operations: String, headers: [(String, String)] = []) throws -> TestResponse {
        try api.post("/v1/batch", #"{"operations":"# + operations + "}", headers: headers)
    }

    private func newestSeq() throws -> Int {
        try api.get("/v1/changes?since=now").json()["last_seq"]?.intValue ?? -1
    }

    private func count(_ path: String) throws -> Int {
        try api.get(path + (path.contains("?") ? "&" : "?") + "limit=500").json()["data"]?.arrayValue?.count ?? -1
    }

    func testOperationsRunInOrderWithReferencesAndLogOneByOne() throws {
        let negotiation = try api.negotiation()
        let round = try api.round(negotiation: negotiation)
        let before = try newestSeq()
        let response = try batch("""
            [{"method":"POST","path":"/v1/participants","body":{"name":"Li Chenggang","country":"CHN"}},
             {"method":"POST","path":"/v1/rounds/\(round)/participants","body":{"participant_id":"$0.id","role":"lead"}},
             {"method":"PATCH","path":"/v1/participants/$0.id","body":{"title":"Vice Minister of Commerce"}},
             {"method":"POST","path":"/v1/issues","body":{"negotiation_id":\(negotiation),"category":"tariffs","title":"Fentanyl tariff"}},
             {"method":"POST","path":"/v1/issues/$3.id/updates","body":{"occurred_on":"2025-11-10","note":"Halved to 10%"}}]
            """)
        XCTAssertEqual(response.status, 200, response.text)
        let results = try response.json()["results"]?.arrayValue ?? []
        XCTAssertEqual(results.map { $0["status"]?.intValue ?? 0 }, [201, 201, 200, 201, 201])
        guard results.count == 5 else { return }
        let participant = results[0]["body"]?["id"]?.intValue ?? 0
        XCTAssertGreaterThan(participant, 0)
        XCTAssertEqual(results[0]["location"]?.stringValue, "/v1/participants/\(participant)")
        XCTAssertEqual(results[1]["body"]?["participant_id"]?.intValue, participant, "$0.id as a body value")
        XCTAssertEqual(results[2]["body"]?["title"]?.stringValue, "Vice Minister of Commerce", "$0.id in a path")
        XCTAssertEqual(results[2]["location"], .null)
        XCTAssertEqual(results[4]["body"]?["issue_id"]?.intValue, results[3]["body"]?["id"]?.intValue)
        // Each result's ETag is the one a GET of the record gives.
        let shown = try api.get("/v1/participants/\(participant)")
        XCTAssertEqual(results[2]["etag"]?.stringValue, shown.headers["ETag"])
        XCTAssertEqual(try shown.json()["version"]?.intValue, 2)

        let feed = try api.get("/v1/changes?since=\(before)").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(feed.map { $0["resource"]?.stringValue ?? "" },
                       ["participants", "round-participants", "participants", "issues", "issue-updates"])
        XCTAssertEqual(feed.map { $0["action"]?.stringValue ?? "" }, ["created", "created", "updated", "created", "created"])
        XCTAssertEqual(Set(feed.map { $0["request_id"]?.stringValue ?? "" }), [response.headers["X-Request-ID"] ?? "?"])
        XCTAssertEqual(Set(feed.map { $0["actor"]?.stringValue ?? "" }), ["writer"])
        let history = try api.get("/v1/participants/\(participant)/history").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(history.map { $0["action"]?.stringValue ?? "" }, ["created", "updated"])
    }

    func testAFailureOnTheLastOperationLeavesNothingBehind() throws {
        let negotiation = try api.negotiation()
        let round = try api.round(negotiation: negotiation)
        let before = try newestSeq()
        let participants = try count("/v1/participants")
        let response = try batch("""
            [{"method":"POST","path":"/v1/participants","body":{"name":"Ghost","country":"USA"}},
             {"method":"PATCH","path":"/v1/rounds/\(round)","body":{"title":"Renamed"}},
             {"method":"PATCH","path":"/v1/rounds/\(round)","body":{"status":"exploded"}}]
            """)
        let problem = Problems.assertProblem(response, status: 422, code: "validation_failed")
        XCTAssertEqual(problem?["operation"]?.intValue, 2)
        XCTAssertEqual(problem?["errors"]?.arrayValue?.first?["pointer"]?.stringValue, "/operations/2/body/status")
        XCTAssertEqual(try newestSeq(), before, "no change-log row")
        XCTAssertEqual(try count("/v1/participants"), participants, "the created participant is gone")
        XCTAssertEqual(try api.get("/v1/rounds/\(round)").json()["title"]?.stringValue, "Geneva talks", "the patch is undone")
    }

    func testEachFailureKeepsItsOwnStatus() throws {
        let negotiation = try api.negotiation()
        let round = try api.round(negotiation: negotiation)
        let etag = try api.get("/v1/rounds/\(round)").headers["ETag"] ?? ""
        let notFound = try batch(#"[{"method":"PATCH","path":"/v1/rounds/999999","body":{"title":"x"}}]"#)
        XCTAssertEqual(Problems.assertProblem(notFound, status: 404, code: "not_found")?["operation"]?.intValue, 0)
        let stale = try batch("""
            [{"method":"PATCH","path":"/v1/rounds/\(round)","body":{"title":"First"},"if_match":\(String(decoding: JSONValue.string(etag).encoded, as: UTF8.self))},
             {"method":"PATCH","path":"/v1/rounds/\(round)","body":{"title":"Second"},"if_match":\(String(decoding: JSONValue.string(etag).encoded, as: UTF8.self))}]
            """)
        XCTAssertEqual(Problems.assertProblem(stale, status: 412, code: "precondition_failed")?["operation"]?.intValue, 1,
                       "the first patch changed the ETag the second one names")
        XCTAssertEqual(try api.get("/v1/rounds/\(round)").headers["ETag"], etag)
        let noRoute = try batch(#"[{"method":"POST","path":"/v1/nowhere","body":{}}]"#)
        XCTAssertEqual(Problems.assertProblem(noRoute, status: 404, code: "not_found")?["operation"]?.intValue, 0)
        let wrongMethod = try batch(#"[{"method":"DELETE","path":"/v1/rounds"}]"#)
        XCTAssertEqual(Problems.assertProblem(wrongMethod, status: 405, code: "method_not_allowed")?["operation"]?.intValue, 0)
        let transition = try batch(#"[{"method":"PATCH","path":"/v1/rounds/\#(round)","body":{"status":"concluded"}}]"#)
        XCTAssertEqual(Problems.assertProblem(transition, status: 409, code: "invalid_transition")?["operation"]?.intValue, 0)
    }

    func testReferencesOnlyReachEarlierResultsWithAnID() throws {
        let negotiation = try api.negotiation()
        let round = try api.round(negotiation: negotiation)
        let ahead = try batch(#"[{"method":"PATCH","path":"/v1/rounds/$1.id","body":{"title":"x"}},{"method":"DELETE","path":"/v1/rounds/\#(round)"}]"#)
        let problem = Problems.assertProblem(ahead, status: 422, code: "validation_failed")
        XCTAssertEqual(problem?["operation"]?.intValue, 0)
        XCTAssertEqual(problem?["errors"]?.arrayValue?.first?["pointer"]?.stringValue, "/operations/0/path")
        XCTAssertEqual(try api.get("/v1/rounds/\(round)").status, 200, "the delete after it did not happen")
        let deleted = try batch(#"[{"method":"DELETE","path":"/v1/rounds/\#(round)"},{"method":"PATCH","path":"/v1/rounds/$0.id","body":{"title":"x"}}]"#)
        XCTAssertTrue(Problems.assertProblem(deleted, status: 422, code: "validation_failed")?["errors"]?.arrayValue?.first?["message"]?
            .stringValue?.contains("has no id") == true)
        XCTAssertEqual(try api.get("/v1/rounds/\(round)").status, 200)
    }

    func testTheBatchShapeIsChecked() throws {
        let cases: [(String, String)] = [
            (#"{"operations":[]}"#, "/operations"),
            (#"{}"#, "/operations"),
            (#"{"operations":{}}"#, "/operations"),
            (#"{"operations":[{"method":"POST","path":"/v1/rounds","body":{}}],"atomic":true}"#, "/atomic"),
            (#"{"operations":[{"method":"GET","path":"/v1/rounds"}]}"#, "/operations/0/method"),
            (#"{"operations":[{"method":"POST","path":"rounds","body":{}}]}"#, "/operations/0/path"),
            (#"{"operations":[{"method":"POST","path":"/v1/rounds?x=1","body":{}}]}"#, "/operations/0/path"),
            (#"{"operations":[{"method":"POST","path":"/v1/rounds"}]}"#, "/operations/0/body"),
            (#"{"operations":[{"method":"DELETE","path":"/v1/rounds/1","body":{}}]}"#, "/operations/0/body"),
            (#"{"operations":[{"method":"POST","path":"/v1/rounds","body":[]}]}"#, "/operations/0/body"),
            (#"{"operations":[{"method":"POST","path":"/v1/rounds","body":{},"headers":{}}]}"#, "/operations/0/headers"),
            (#"{"operations":[3]}"#, "/operations/0"),
        ]
        for (body, pointer) in cases {
            let response = try api.post("/v1/batch", body)
            let problem = Problems.assertProblem(response, status: 422, code: "validation_failed")
            XCTAssertEqual(problem?["errors"]?.arrayValue?.first?["pointer"]?.stringValue, pointer, body)
            XCTAssertNil(problem?["operation"], body)
        }
        let many = Array(repeating: #"{"method":"DELETE","path":"/v1/rounds/1"}"#, count: 101).joined(separator: ",")
        Problems.assertProblem(try batch("[\(many)]"), status: 422, code: "validation_failed")
        let nested = try batch(#"[{"method":"POST","path":"/v1/batch","body":{"operations":[]}}]"#)
        XCTAssertEqual(Problems.assertProblem(nested, status: 422, code: "validation_failed")?["operation"]?.intValue, 0)
        let admin = try batch(#"[{"method":"POST","path":"/v1/admin/backup","body":{}}]"#)
        XCTAssertEqual(Problems.assertProblem(admin, status: 422, code: "validation_failed")?["operation"]?.intValue, 0)
        Problems.assertProblem(try api.post("/v1/batch", "[1]"), status: 400, code: "malformed_json")
    }

    func testItNeedsAWriteToken() throws {
        let body = #"{"operations":[{"method":"POST","path":"/v1/participants","body":{"name":"X","country":"USA"}}]}"#
        Problems.assertProblem(try app.client().request("POST", "/v1/batch", json: body), status: 401, code: "unauthorized")
        Problems.assertProblem(try app.client().request("POST", "/v1/batch", json: body,
                                                        headers: [("Authorization", "Bearer \(Fixtures.readToken)")]),
                               status: 403, code: "forbidden")
    }

    func testAnIdempotencyKeyCoversTheWholeBatch() throws {
        let participants = try count("/v1/participants")
        let operations = #"[{"method":"POST","path":"/v1/participants","body":{"name":"Once","country":"USA"}},{"method":"POST","path":"/v1/participants","body":{"name":"Twice","country":"CHN"}}]"#
        let key = [("Idempotency-Key", Fixtures.unique("batch"))]
        let first = try batch(operations, headers: key)
        XCTAssertEqual(first.status, 200, first.text)
        let again = try batch(operations, headers: key)
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.headers["Idempotent-Replayed"], "true")
        XCTAssertEqual(again.body, first.body)
        XCTAssertEqual(try count("/v1/participants"), participants + 2, "created once")
        let other = try batch(#"[{"method":"POST","path":"/v1/participants","body":{"name":"Other","country":"USA"}}]"#, headers: key)
        XCTAssertEqual(other.status, 422, "the same key with another batch")
    }
}

/// A reference written as an integer-valued number (`1.0`) is the integer, as JSON Schema's `integer` says.
final class IntegerSpellingTests: XCTestCase {
    func testAnIDWrittenWithAZeroFractionIsAccepted() throws {
        let app = try Fixtures.app()
        defer { app.stop() }
        let api = ResourceAPI(app)
        let negotiation = try api.negotiation()
        let created = try api.post("/v1/rounds", """
            {"negotiation_id":\(negotiation).0,"title":"Geneva","city":"Geneva","country":"CHE","starts_on":"2025-05-10","ends_on":"2025-05-11"}
            """)
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(try created.json()["negotiation_id"]?.intValue, negotiation)
        let fraction = try api.post("/v1/rounds", """
            {"negotiation_id":\(negotiation).5,"title":"Geneva","city":"Geneva","country":"CHE","starts_on":"2025-05-10","ends_on":"2025-05-11"}
            """)
        XCTAssertEqual(Problems.assertProblem(fraction, status: 422, code: "validation_failed")?["errors"]?.arrayValue?.first?["pointer"]?.stringValue,
                       "/negotiation_id")
    }
}
