import XCTest
import JSON
import SQLite
@testable import TradeTracker

/// `POST /v1/import` (admin token): NDJSON records through the API's checks, one transaction, all or nothing; the
/// first bad line answered with its line, resource and field pointers.
final class ImportTests: ResourceAPITestCase {
    static let adminToken = "admin-token-0123456789"
    static let maxImportBytes = 2 << 20

    override func setUpWithError() throws {
        app = try TestApp {
            $0.tokens = Fixtures.tokens + ",admin:admin:\(Self.adminToken)"
            $0.maxImportBytes = Self.maxImportBytes
        }
        api = ResourceAPI(app)
    }

    private var admin: [(String, String)] { [("Authorization", "Bearer \(Self.adminToken)")] }

    private func importing(_ lines: [String], query: String = "", headers: [(String, String)]? = nil,
                           contentType: String = "application/x-ndjson") throws -> TestResponse {
        try api.client.request("POST", "/v1/import" + query, headers: (headers ?? admin) + [("Content-Type", contentType)],
                               body: Array(lines.joined(separator: "\n").utf8))
    }

    private func line(_ resource: String, _ record: String) -> String { #"{"resource":"\#(resource)","record":\#(record)}"# }

    private func newestSeq() throws -> Int {
        try api.get("/v1/changes?since=now").json()["last_seq"]?.intValue ?? -1
    }

    /// The `line`, `resource` and pointers of an import problem.
    private func assertLineProblem(_ response: TestResponse, status: Int, code: String, line: Int, resource: String?, pointers: [String],
                                   file: StaticString = #filePath, fileLine: UInt = #line) {
        let json = Problems.assertProblem(response, status: status, code: code, file: file, line: fileLine)
        XCTAssertEqual(json?["line"], .int(line), response.text, file: file, line: fileLine)
        XCTAssertEqual(json?["resource"]?.stringValue, resource, response.text, file: file, line: fileLine)
        XCTAssertEqual((json?["errors"]?.arrayValue ?? []).compactMap { $0["pointer"]?.stringValue }.sorted(), pointers.sorted(),
                       response.text, file: file, line: fileLine)
        XCTAssertEqual(json?["instance"], .string("/v1/import"), file: file, line: fileLine)
    }

    func testRecordsOfEveryKindAreWrittenWithTheirChangeLogAndASummary() throws {
        let before = try newestSeq()
        let slug = Fixtures.unique()
        let response = try importing([
            line("sources", #"{"id":900,"title":"Joint statement","url":"https://example.org/geneva"}"#),
            line("negotiations", #"{"id":901,"slug":"\#(slug)","title":"Talks","parties":["USA","CHN"]}"#),
            line("participants", #"{"id":902,"name":"He Lifeng","country":"CHN"}"#),
            "",
            line("rounds", #"{"negotiation_id":901,"title":"Geneva","city":"Geneva","country":"CHE","starts_on":"2025-05-10","ends_on":"2025-05-11","source_id":900}"#),
            line("issues", #"{"id":903,"negotiation_id":901,"category":"tariffs","title":"Reciprocal tariffs"}"#),
            line("issue-updates", #"{"issue_id":903,"note":"Talks began","occurred_on":"2025-05-10","status":"in_discussion"}"#),
            line("tariff-measures", #"{"imposed_by":"USA","imposed_on":"CHN","rate_percent":10,"effective_from":"2025-04-05"}"#),
            line("export-controls", #"{"imposed_by":"CHN","items":["dysprosium"],"control":"licence_required","effective_from":"2025-04-04"}"#),
            line("statements", #"{"participant_id":902,"said_on":"2025-05-12","text":"Substantial progress"}"#),
        ])
        XCTAssertEqual(response.status, 200, response.text)
        let summary = try response.json()
        XCTAssertEqual(summary["dry_run"], .bool(false))
        XCTAssertEqual(summary["rows"], .int(9))
        XCTAssertEqual(summary["resources"]?.keys, ["sources", "negotiations", "participants", "rounds", "issues", "tariff-measures",
                                                    "export-controls", "statements", "issue-updates"])
        XCTAssertNotNil(summary["duration_ms"]?.intValue)

        // A record without id gets one as a POST would; one with an id keeps it.
        let rounds = try api.get("/v1/rounds?negotiation_id=901").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(rounds.count, 1)
        XCTAssertEqual(rounds.first?["sequence"], .int(1))
        XCTAssertEqual(rounds.first?["version"], .int(1))
        XCTAssertEqual(try api.get("/v1/sources/900").json()["url"], .string("https://example.org/geneva"))
        // A new issue update (no id) moves its issue, as POST /v1/issues/{id}/updates does.
        let issue = try api.get("/v1/issues/903").json()
        XCTAssertEqual(issue["status"], .string("in_discussion"))
        XCTAssertEqual(issue["version"], .int(2))

        let feed = try api.get("/v1/changes?since=\(before)&limit=50").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(feed.map { $0["resource"]?.stringValue ?? "" },
                       ["sources", "negotiations", "participants", "rounds", "issues", "issue-updates", "issues", "tariff-measures",
                        "export-controls", "statements"])
        XCTAssertEqual(Set(feed.map { $0["actor"]?.stringValue ?? "" }), ["admin"])
        XCTAssertEqual(Set(feed.map { $0["request_id"]?.stringValue ?? "" }), [response.headers["X-Request-ID"] ?? "?"])
    }

    func testABadLineIsItsOwnProblemNamingLineResourceAndFieldAndNothingIsKept() throws {
        let negotiation = try api.negotiation()
        let before = try newestSeq()
        let sources = try app.count("sources")
        let response = try importing([
            line("sources", #"{"title":"Kept only if all pass"}"#),
            line("sources", #"{"title":"Second"}"#),
            line("rounds", #"{"negotiation_id":\#(negotiation),"title":"Geneva","city":"Geneva","country":"XXX","starts_on":"2025-05-11","ends_on":"2025-05-10"}"#),
            line("sources", #"{"title":"never read"}"#),
        ])
        assertLineProblem(response, status: 422, code: "validation_failed", line: 3, resource: "rounds",
                          pointers: ["/record/country", "/record/ends_on"])
        XCTAssertEqual(Problems.message(response, "/record/ends_on"), "must not be before starts_on")
        XCTAssertEqual(try app.count("sources"), sources, "all or nothing: the first two lines are not kept")
        XCTAssertEqual(try newestSeq(), before, "no change-log row")

        // A duplicate unique value is a 409 of its own, a missing reference a 422 naming the field.
        let duplicate = try importing([line("negotiations", #"{"slug":"dup-\#(negotiation)","title":"A","parties":["USA","CHN"]}"#),
                                       line("negotiations", #"{"slug":"dup-\#(negotiation)","title":"B","parties":["USA","CHN"]}"#)])
        Problems.assertProblem(duplicate, status: 409, code: "duplicate")
        XCTAssertEqual(try duplicate.json()["line"], .int(2))
        let missing = try importing([line("statements", #"{"participant_id":987654,"said_on":"2025-05-12","text":"x"}"#)])
        assertLineProblem(missing, status: 422, code: "validation_failed", line: 1, resource: "statements", pointers: ["/record/participant_id"])
    }

    func testLinesThatAreNotRecordsAre400Or422NamingTheLine() throws {
        let notJSON = try importing([line("sources", #"{"title":"ok"}"#), "{\"resource\": \"sources\", "])
        assertLineProblem(notJSON, status: 400, code: "malformed_json", line: 2, resource: nil, pointers: [])
        XCTAssertTrue(try notJSON.json()["detail"]?.stringValue?.hasPrefix("the line is not JSON") ?? false, notJSON.text)
        let array = try importing(["[1,2]"])
        assertLineProblem(array, status: 400, code: "malformed_json", line: 1, resource: nil, pointers: [])
        let envelope = try importing([#"{"resource":"sourcez","record":[],"extra":1}"#])
        assertLineProblem(envelope, status: 422, code: "validation_failed", line: 1, resource: nil, pointers: ["/resource", "/record", "/extra"])
        let empty = try importing([#"{}"#])
        assertLineProblem(empty, status: 422, code: "validation_failed", line: 1, resource: nil, pointers: ["/resource", "/record"])
        // Blank lines count for line numbers; CRLF line ends are fine.
        let counted = try importing([line("sources", #"{"title":"ok"}"#) + "\r", "", "  ", line("sources", #"{"title":""}"#)])
        assertLineProblem(counted, status: 422, code: "validation_failed", line: 4, resource: "sources", pointers: ["/record/title"])
        // Plain records of ?resource= have pointers at the top; unknown fields are refused as in the API.
        let plain = try importing([#"{"title":"ok"}"#, #"{"title":"ok","titel":"typo"}"#], query: "?resource=sources")
        assertLineProblem(plain, status: 422, code: "validation_failed", line: 2, resource: "sources", pointers: ["/titel"])
        XCTAssertEqual(Problems.message(plain, "/titel"), "is not a field of a source")
    }

    func testAdminTokenMediaTypeBodyAndParametersAreChecked() throws {
        let body = [line("sources", #"{"title":"ok"}"#)]
        Problems.assertProblem(try importing(body, headers: []), status: 401, code: "unauthorized")
        let writer = try importing(body, headers: [("Authorization", "Bearer \(Fixtures.writeToken)")])
        Problems.assertProblem(writer, status: 403, code: "forbidden")
        XCTAssertEqual(try writer.json()["detail"], .string("the token 'writer' has the write scope; /v1/import needs admin"))
        Problems.assertProblem(try importing(body, headers: [("Authorization", "Bearer \(Fixtures.readToken)")]), status: 403, code: "forbidden")
        Problems.assertProblem(try importing(body, contentType: "application/json"), status: 415, code: "unsupported_media_type")
        Problems.assertProblem(try importing(body, contentType: "application/x-ndjson; charset=latin1"), status: 415, code: "unsupported_media_type")
        XCTAssertEqual(try importing(body, contentType: "application/ndjson").status, 200)
        Problems.assertProblem(try importing([]), status: 400, code: "malformed_json")
        for query in ["?resource=sourcez", "?dry_run=maybe", "?limit=5", "?dry_run=1&dry_run=0"] {
            let response = try importing(body, query: query)
            Problems.assertProblem(response, status: 400, code: "invalid_parameter")
        }
        // A batch cannot smuggle an import past the admin check.
        let batch = try api.post("/v1/batch", #"{"operations":[{"method":"POST","path":"/v1/import","body":{}}]}"#)
        Problems.assertValidation(batch, ["/operations/0/path"])
    }

    func testTheImportRouteTakesBodiesUpToMaxImportBytesAndOthersStayAtMaxBodyBytes() throws {
        // 1.5 MiB of records: over the 1 MiB body limit of every other route, under --max-import-bytes.
        let record = line("sources", #"{"title":"\#(String(repeating: "x", count: 400))"}"#)
        let lines = Array(repeating: record, count: (3 << 19) / (record.utf8.count + 1))
        let response = try importing(lines)
        XCTAssertEqual(response.status, 200, String(response.text.prefix(300)))
        XCTAssertEqual(try response.json()["rows"], .int(lines.count))
        // Past the import limit, and past the plain limit elsewhere: 413 from Content-Length, before the body.
        for (path, size) in [("/v1/import", Self.maxImportBytes + 1), ("/v1/sources", (1 << 20) + 1)] {
            let client = app.client()
            try client.sendRaw(Array("POST \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.adminToken)\r\nContent-Type: application/x-ndjson\r\nContent-Length: \(size)\r\n\r\n".utf8))
            let refused = try client.readResponse()
            Problems.assertProblem(refused, status: 413, code: "payload_too_large")
            XCTAssertTrue(refused.text.contains("exceeds \(size - 1) bytes"), refused.text)
        }
        // One record may be no larger than the API takes for one body.
        let huge = line("sources", #"{"title":"\#(String(repeating: "y", count: (1 << 20) + 10))"}"#)
        let tooLong = try importing([line("sources", #"{"title":"ok"}"#), huge])
        assertLineProblem(tooLong, status: 400, code: "malformed_json", line: 2, resource: nil, pointers: [])
    }

    func testDryRunChecksEveryLineAndKeepsNothing() throws {
        let before = try newestSeq()
        let sources = try app.count("sources")
        let lines = [line("sources", #"{"id":700,"title":"A"}"#), line("statements", #"{"speaker":"A spokesperson","said_on":"2025-05-12","text":"x","source_id":700}"#)]
        let dry = try importing(lines, query: "?dry_run=1")
        XCTAssertEqual(dry.status, 200, dry.text)
        XCTAssertEqual(try dry.json()["dry_run"], .bool(true))
        XCTAssertEqual(try dry.json()["rows"], .int(2))
        XCTAssertEqual(try app.count("sources"), sources)
        XCTAssertEqual(try newestSeq(), before)
        let bad = try importing(lines + [line("sources", #"{"id":700,"title":"again"}"#)], query: "?dry_run=true")
        assertLineProblem(bad, status: 409, code: "duplicate", line: 3, resource: "sources", pointers: ["/record/id"])
        // The same lines for real: the ids a dry run used are free.
        let real = try importing(lines)
        XCTAssertEqual(real.status, 200, real.text)
        XCTAssertEqual(try api.get("/v1/sources/700").status, 200)
    }

    func testRestoredRecordsKeepIdTimestampsVersionAndReadOnlyFields() throws {
        let negotiation = try api.negotiation()
        let issue = try api.issue(negotiation: negotiation)
        let response = try importing([
            line("rounds", #"{"id":4242,"negotiation_id":\#(negotiation),"sequence":7,"title":"London","city":"London","country":"GBR","starts_on":"2025-06-09","ends_on":"2025-06-10","status":"concluded","created_at":"2025-06-01T10:00:00Z","updated_at":"2025-06-11T08:30:00.5+02:00","version":4}"#),
            line("tariff-measures", #"{"id":4243,"imposed_by":"USA","imposed_on":"CHN","rate_percent":30,"effective_from":"2025-05-14","in_effect_today":false}"#),
            line("issue-updates", #"{"id":4244,"issue_id":\#(issue),"note":"Agreed","occurred_on":"2025-06-10","status":"agreed","version":1}"#),
        ])
        XCTAssertEqual(response.status, 200, response.text)
        let round = try api.get("/v1/rounds/4242")
        let json = try round.json()
        XCTAssertEqual(json["sequence"], .int(7))
        XCTAssertEqual(json["version"], .int(4))
        XCTAssertEqual(json["created_at"], .string("2025-06-01T10:00:00.000Z"))
        XCTAssertEqual(json["updated_at"], .string("2025-06-11T06:30:00.500Z"), "stored in UTC with milliseconds")
        XCTAssertNotNil(round.headers["ETag"])
        // in_effect_today is computed when read, whatever the line said.
        XCTAssertEqual(try api.get("/v1/tariff-measures/4243").json()["in_effect_today"], .bool(true))
        // A restored update (it has an id) leaves its issue as exported: the issue's own record says where it stands.
        let restoredIssue = try api.get("/v1/issues/\(issue)").json()
        XCTAssertEqual(restoredIssue["status"], .string("open"))
        XCTAssertEqual(restoredIssue["version"], .int(1))
        // The next round of that negotiation is numbered after the imported one.
        XCTAssertEqual(try api.get("/v1/rounds/\(try api.round(negotiation: negotiation))").json()["sequence"], .int(8))
    }

    func testStampsAndSequencesAreCheckedLikeFields() throws {
        let negotiation = try api.negotiation()
        let round = try api.round(negotiation: negotiation)
        let stamps = try importing([line("sources", #"{"id":0,"title":"A","created_at":"2025-13-01T00:00:00Z","updated_at":"yesterday","version":0}"#)])
        assertLineProblem(stamps, status: 422, code: "validation_failed", line: 1, resource: "sources",
                          pointers: ["/record/id", "/record/created_at", "/record/updated_at", "/record/version"])
        let order = try importing([line("sources", #"{"title":"A","created_at":"2025-06-02T00:00:00Z","updated_at":"2025-06-01T00:00:00Z"}"#)])
        assertLineProblem(order, status: 422, code: "validation_failed", line: 1, resource: "sources", pointers: ["/record/updated_at"])
        let taken = try importing([line("rounds", #"{"id":\#(round),"negotiation_id":\#(negotiation),"title":"T","city":"C","country":"CHE","starts_on":"2025-05-10","ends_on":"2025-05-11"}"#)])
        assertLineProblem(taken, status: 409, code: "duplicate", line: 1, resource: "rounds", pointers: ["/record/id"])
        XCTAssertEqual(Problems.message(taken, "/record/id"), "is taken: a round with id \(round) already exists")
        // A deleted record's id stays retired: (id, version) must keep naming one representation (the record cache).
        let gone = try api.source(title: "Cached, then deleted")
        let cached = try api.get("/v1/sources/\(gone)")
        XCTAssertEqual(try api.delete("/v1/sources/\(gone)").status, 204)
        let reused = try importing([line("sources", #"{"id":\#(gone),"title":"Another source","version":1}"#)])
        assertLineProblem(reused, status: 409, code: "duplicate", line: 1, resource: "sources", pointers: ["/record/id"])
        XCTAssertTrue(Problems.message(reused, "/record/id")?.contains("ids are never reused") ?? false, reused.text)
        XCTAssertEqual(cached.status, 200)
        let sequence = try importing([line("rounds", #"{"negotiation_id":\#(negotiation),"sequence":1,"title":"T","city":"C","country":"CHE","starts_on":"2025-05-10","ends_on":"2025-05-11"}"#)])
        assertLineProblem(sequence, status: 409, code: "duplicate", line: 1, resource: "rounds", pointers: ["/record/sequence"])
        let badSequence = try importing([line("rounds", #"{"negotiation_id":\#(negotiation),"sequence":0,"title":"T","city":"C","country":"CHE","starts_on":"2025-05-10","ends_on":"2025-05-11"}"#)])
        assertLineProblem(badSequence, status: 422, code: "validation_failed", line: 1, resource: "rounds", pointers: ["/record/sequence"])
        // Attendance has no id of its own, and needs the round it belongs to.
        let participant = try api.participant()
        let attendance = try importing([
            line("round-participants", #"{"participant_id":\#(participant),"role":"lead"}"#),
        ])
        assertLineProblem(attendance, status: 422, code: "validation_failed", line: 1, resource: "round-participants", pointers: ["/record/round_id"])
        let ghost = try importing([line("round-participants", #"{"round_id":987654,"participant_id":\#(participant),"role":"chair","id":3}"#)])
        assertLineProblem(ghost, status: 422, code: "validation_failed", line: 1, resource: "round-participants",
                          pointers: ["/record/round_id", "/record/role", "/record/id"])
    }

    func testTheAPIsOwnPOSTsStillRefuseServerAssignedFields() throws {
        let negotiation = try api.negotiation()
        Problems.assertValidation(try api.post("/v1/sources", #"{"id":5000,"title":"x","created_at":"2025-01-01T00:00:00Z"}"#),
                                  ["/id", "/created_at"])
        Problems.assertValidation(try api.post("/v1/rounds", #"{"negotiation_id":\#(negotiation),"sequence":9,"title":"T","city":"C","country":"CHE","starts_on":"2025-05-10","ends_on":"2025-05-11"}"#),
                                  ["/sequence"])
    }

    func testAMeasureMayAnswerOneLaterInTheImportButNotOneThatNeverComes() throws {
        let forward = try importing([
            line("tariff-measures", #"{"id":8101,"imposed_by":"USA","imposed_on":"CHN","rate_percent":25,"effective_from":"2025-10-01","responds_to":[{"type":"export-controls","id":8102}]}"#),
            line("export-controls", #"{"id":8102,"imposed_by":"CHN","items":["gallium"],"control":"ban","effective_from":"2025-09-01"}"#),
        ])
        XCTAssertEqual(forward.status, 200, forward.text)
        let responses = try api.get("/v1/export-controls/8102/responses").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(responses.map { $0["id"]?.intValue ?? 0 }, [8101])

        let dangling = try importing([
            line("sources", #"{"title":"first"}"#),
            line("tariff-measures", #"{"imposed_by":"USA","imposed_on":"CHN","rate_percent":25,"effective_from":"2025-10-01","responds_to":[{"type":"tariff-measures","id":8101},{"type":"export-controls","id":8999}]}"#),
            line("sources", #"{"title":"last"}"#),
        ])
        assertLineProblem(dangling, status: 422, code: "validation_failed", line: 2, resource: "tariff-measures", pointers: ["/record/responds_to/1"])
        XCTAssertEqual(Problems.message(dangling, "/record/responds_to/1"),
                       "refers to an export control that does not exist (id 8999), neither stored nor later in the import")
        // A measure may not answer itself, even by the id it brings.
        let itself = try importing([line("tariff-measures", #"{"id":8103,"imposed_by":"USA","imposed_on":"CHN","rate_percent":1,"effective_from":"2025-10-01","responds_to":[{"type":"tariff-measures","id":8103}]}"#)])
        assertLineProblem(itself, status: 422, code: "validation_failed", line: 1, resource: "tariff-measures", pointers: ["/record/responds_to/0"])
    }

    func testAnIdempotencyKeyReplaysTheImport() throws {
        let key = [("Idempotency-Key", Fixtures.unique("import"))]
        let lines = [line("sources", #"{"title":"once"}"#)]
        let first = try importing(lines, headers: admin + key)
        XCTAssertEqual(first.status, 200, first.text)
        let sources = try app.count("sources")
        let again = try importing(lines, headers: admin + key)
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.headers["Idempotent-Replayed"], "true")
        XCTAssertEqual(again.text, first.text)
        XCTAssertEqual(try app.count("sources"), sources)
        Problems.assertProblem(try importing([line("sources", #"{"title":"other"}"#)], headers: admin + key), status: 422, code: "idempotency_key_reused")
    }
}
