import JSON
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// `/v1/negotiations` and `/v1/negotiations/by-slug/{slug}` end to end (API.md §1, §2).
final class NegotiationsTests: XCTestCase {
    var app: TestApp!
    var api: ResourceAPI!

    static let fields = ["slug", "title", "parties", "status", "summary", "started_on", "ended_on", "record_complete_through"]

    override func setUpWithError() throws {
        app = try Fixtures.app()
        api = ResourceAPI(app)
    }

    override func tearDown() { app.stop() }

    // MARK: create and read

    func testCreateReturns201WithLocationETagAndTheRecordWithDefaults() throws {
        let response = try api.post("/v1/negotiations", #"{"slug":"us-china-2025","title":"US–China tariff talks","parties":["USA","CHN"]}"#)
        let json = try Lifecycle.assertCreated(response, collection: "/v1/negotiations", fields: Self.fields)
        XCTAssertEqual(json["slug"], .string("us-china-2025"))
        XCTAssertEqual(json["title"], .string("US–China tariff talks"))
        XCTAssertEqual(json["parties"], .array([.string("USA"), .string("CHN")]))
        XCTAssertEqual(json["status"], .string("active"), "status defaults to active")
        XCTAssertEqual(json["summary"], .null)
        XCTAssertEqual(json["started_on"], .null)
        XCTAssertEqual(json["ended_on"], .null)
        XCTAssertEqual(json["record_complete_through"], .null, "no record checked yet")
        let id = try XCTUnwrap(json["id"]?.intValue)
        try Lifecycle.assertReads(api, "/v1/negotiations/\(id)", body: response.body, etag: response.headers["ETag"])
        // Stored as sent.
        let row = try XCTUnwrap(app.query("SELECT * FROM negotiations WHERE id = ?", [.integer(Int64(id))]).first)
        XCTAssertEqual(row.text("parties"), #"["USA","CHN"]"#)
        XCTAssertEqual(row.text("status"), "active")
    }

    func testCreateWithEveryFieldReturnsThemAll() throws {
        let response = try api.post("/v1/negotiations", #"""
            {"slug":"eu-china","title":"EU–China","parties":["EUN","CHN","GBR"],"status":"paused",
             "summary":"Talks on EV tariffs","started_on":"2024-06-12","ended_on":"2024-06-12","record_complete_through":"2024-07-01"}
            """#)
        let json = try Lifecycle.assertCreated(response, collection: "/v1/negotiations", fields: Self.fields)
        XCTAssertEqual(json["parties"], .array([.string("EUN"), .string("CHN"), .string("GBR")]), "EUN stands for the EU")
        XCTAssertEqual(json["status"], .string("paused"))
        XCTAssertEqual(json["summary"], .string("Talks on EV tariffs"))
        XCTAssertEqual(json["started_on"], .string("2024-06-12"))
        XCTAssertEqual(json["ended_on"], .string("2024-06-12"), "ended_on may equal started_on")
        XCTAssertEqual(json["record_complete_through"], .string("2024-07-01"))
    }

    func testGetBySlugReturnsTheSameRepresentationAsById() throws {
        let id = try api.negotiation(slug: "us-china-2025")
        let byID = try api.get("/v1/negotiations/\(id)")
        let bySlug = try api.get("/v1/negotiations/by-slug/us-china-2025")
        XCTAssertEqual(bySlug.status, 200)
        XCTAssertEqual(bySlug.text, byID.text)
        XCTAssertEqual(bySlug.headers["ETag"], byID.headers["ETag"])
        XCTAssertNotNil(bySlug.headers["ETag"])

        let missing = try api.get("/v1/negotiations/by-slug/no-such-talks")
        Problems.assertProblem(missing, status: 404, code: "not_found")

        // After the slug changes, the old one is gone and the new one answers.
        XCTAssertEqual(try api.patch("/v1/negotiations/\(id)", #"{"slug":"us-china"}"#).status, 200)
        Problems.assertProblem(try api.get("/v1/negotiations/by-slug/us-china-2025"), status: 404, code: "not_found")
        let renamed = try api.get("/v1/negotiations/by-slug/us-china")
        XCTAssertEqual(renamed.status, 200)
        XCTAssertEqual(try renamed.json()["id"], .int(id))
    }

    func testUnknownIdsAre404() throws {
        for method in ["GET", "DELETE"] {
            let response = try api.client.request(method, "/v1/negotiations/9999",
                                                  headers: [("Authorization", "Bearer \(Fixtures.writeToken)")])
            Problems.assertProblem(response, status: 404, code: "not_found")
        }
        Problems.assertProblem(try api.patch("/v1/negotiations/9999", #"{"title":"x"}"#), status: 404, code: "not_found")
        Problems.assertProblem(try api.get("/v1/negotiations/abc"), status: 404, code: "not_found")
        Problems.assertProblem(try api.get("/v1/negotiations/0"), status: 404, code: "not_found")
    }

    // MARK: update

    func testPatchChangesFieldsBumpsVersionAndUpdatedAt() throws {
        let created = try api.post("/v1/negotiations", #"{"slug":"talks","title":"Talks","parties":["USA","CHN"],"summary":"first"}"#)
        let before = try created.json()
        let id = try XCTUnwrap(before["id"]?.intValue)
        Lifecycle.tick()

        let patched = try api.patch("/v1/negotiations/\(id)", #"{"title":"Geneva track","status":"concluded","ended_on":"2025-05-12"}"#)
        XCTAssertEqual(patched.status, 200, patched.text)
        let after = try patched.json()
        XCTAssertEqual(after["title"], .string("Geneva track"))
        XCTAssertEqual(after["status"], .string("concluded"))
        XCTAssertEqual(after["ended_on"], .string("2025-05-12"))
        XCTAssertEqual(after["summary"], .string("first"), "fields not in the patch keep their value")
        XCTAssertEqual(after["slug"], .string("talks"))
        XCTAssertEqual(after["version"], .int(2))
        XCTAssertEqual(after["created_at"], before["created_at"])
        XCTAssertNotEqual(after["updated_at"], before["updated_at"])
        XCTAssertTrue(Fixtures.isTimestamp(after["updated_at"]?.stringValue))
        XCTAssertGreaterThan(after["updated_at"]?.stringValue ?? "", before["updated_at"]?.stringValue ?? "")
        XCTAssertNotEqual(patched.headers["ETag"], created.headers["ETag"])
        try Lifecycle.assertReads(api, "/v1/negotiations/\(id)", body: patched.body, etag: patched.headers["ETag"])
    }

    func testPatchWithNullClearsAnOptionalField() throws {
        let id = try api.negotiation(extra: #","summary":"to be cleared","started_on":"2025-05-10""#)
        let response = try api.client.request("PATCH", "/v1/negotiations/\(id)",
                                              headers: [("Authorization", "Bearer \(Fixtures.writeToken)"),
                                                        ("Content-Type", "application/merge-patch+json")],
                                              body: Array(#"{"summary":null,"started_on":null}"#.utf8))
        XCTAssertEqual(response.status, 200, response.text)
        let json = try response.json()
        XCTAssertEqual(json["summary"], .null)
        XCTAssertEqual(json["started_on"], .null)
        XCTAssertEqual(json["version"], .int(2))
        let row = try XCTUnwrap(app.query("SELECT summary, started_on FROM negotiations WHERE id = ?", [.integer(Int64(id))]).first)
        XCTAssertTrue(row.isNull("summary"))
        XCTAssertTrue(row.isNull("started_on"))
    }

    func testPatchWithNullOnARequiredFieldIs422AndChangesNothing() throws {
        let id = try api.negotiation(slug: "keep-me")
        Problems.assertValidation(try api.patch("/v1/negotiations/\(id)", #"{"title":null}"#), ["/title"])
        Problems.assertValidation(try api.patch("/v1/negotiations/\(id)", #"{"slug":null}"#), ["/slug"])
        Problems.assertValidation(try api.patch("/v1/negotiations/\(id)", #"{"parties":null,"title":null,"summary":"x"}"#),
                                  ["/parties", "/title"])
        let json = try api.get("/v1/negotiations/\(id)").json()
        XCTAssertEqual(json["version"], .int(1))
        XCTAssertEqual(json["slug"], .string("keep-me"))
        XCTAssertEqual(json["summary"], .null, "a refused patch applies none of its fields")
    }

    func testPatchThatChangesNothingKeepsVersionAndWritesNoChangeRow() throws {
        let created = try api.post("/v1/negotiations", #"{"slug":"same","title":"Same","parties":["USA","CHN"]}"#)
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        Lifecycle.tick()
        let response = try api.patch("/v1/negotiations/\(id)", #"{"title":"Same","parties":["USA","CHN"],"summary":null}"#)
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.text, created.text, "nothing changed: same version, same updated_at")
        XCTAssertEqual(response.headers["ETag"], created.headers["ETag"])
        XCTAssertEqual(try app.changeRows("negotiations", id).map(\.action), ["created"])
        let empty = try api.patch("/v1/negotiations/\(id)", "{}")
        XCTAssertEqual(empty.status, 200)
        XCTAssertEqual(try empty.json()["version"], .int(1))
    }

    func testPatchDateOrderIsCheckedAgainstTheStoredRecord() throws {
        let id = try api.negotiation(extra: #","started_on":"2025-05-10""#)
        Problems.assertValidation(try api.patch("/v1/negotiations/\(id)", #"{"ended_on":"2025-05-09"}"#), ["/ended_on"])
        XCTAssertEqual(try api.patch("/v1/negotiations/\(id)", #"{"ended_on":"2025-05-10"}"#).status, 200)
        Problems.assertValidation(try api.patch("/v1/negotiations/\(id)", #"{"started_on":"2025-05-11"}"#), ["/ended_on"])
    }

    func testPatchRejectsReadOnlyAndUnknownFields() throws {
        let id = try api.negotiation()
        Problems.assertValidation(try api.patch("/v1/negotiations/\(id)", #"{"id":5,"version":9,"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}"#),
                                  ["/id", "/version", "/created_at", "/updated_at"])
        Problems.assertValidation(try api.patch("/v1/negotiations/\(id)", #"{"titel":"typo"}"#), ["/titel"])
        XCTAssertEqual(try api.get("/v1/negotiations/\(id)").json()["version"], .int(1))
    }

    /// Fields optional on create but always set (defaulted, NOT NULL) cannot be cleared with null: 422 naming them.
    func testPatchNullOnADefaultedFieldIs422NamingTheField() throws {
        let negotiation = try api.negotiation()
        let round = try api.round(negotiation: negotiation)
        let issue = try api.issue(negotiation: negotiation)
        let participant = try api.participant()
        let measure = try api.tariffMeasure()
        Problems.assertValidation(try api.patch("/v1/negotiations/\(negotiation)", #"{"status":null}"#), ["/status"])
        Problems.assertValidation(try api.patch("/v1/rounds/\(round)", #"{"status":null}"#), ["/status"])
        Problems.assertValidation(try api.patch("/v1/issues/\(issue)", #"{"priority":null,"positions":null}"#), ["/priority", "/positions"])
        Problems.assertValidation(try api.patch("/v1/participants/\(participant)", #"{"aliases":null}"#), ["/aliases"])
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(measure)", #"{"coverage":null}"#), ["/coverage"])
    }

    // MARK: delete

    func testDeleteIs204ThenGoneAndASecondDeleteIs404() throws {
        let id = try api.negotiation(slug: "short-lived")
        try Lifecycle.assertDeletes(api, "/v1/negotiations/\(id)")
        Problems.assertProblem(try api.get("/v1/negotiations/by-slug/short-lived"), status: 404, code: "not_found")
        XCTAssertEqual(try app.query("SELECT count(*) AS n FROM negotiations WHERE id = ?", [.integer(Int64(id))]).first?.int("n"), 0)
        // The slug is free again, and ids are never reused.
        let again = try api.negotiation(slug: "short-lived")
        XCTAssertGreaterThan(again, id)
    }

    func testDeleteIsRefusedWhileRoundsReferenceTheNegotiation() throws {
        let id = try api.negotiation()
        let first = try api.round(negotiation: id)
        let second = try api.round(negotiation: id, starts: "2025-06-01", ends: "2025-06-02")
        let issue = try api.issue(negotiation: id)

        let refused = try api.delete("/v1/negotiations/\(id)")
        let json = Problems.assertProblem(refused, status: 409, code: "referenced")
        XCTAssertEqual(json?["referenced_by"], .object([("rounds", .int(2)), ("issues", .int(1))]))
        XCTAssertEqual(try api.get("/v1/negotiations/\(id)").status, 200, "the negotiation still exists")
        XCTAssertEqual(try app.changeRows("negotiations", id).map(\.action), ["created"])

        for path in ["/v1/rounds/\(first)", "/v1/rounds/\(second)", "/v1/issues/\(issue)"] {
            XCTAssertEqual(try api.delete(path).status, 204)
        }
        XCTAssertEqual(try api.delete("/v1/negotiations/\(id)").status, 204)
    }

    // MARK: uniqueness

    func testDuplicateSlugIs409OnCreateAndOnPatch() throws {
        let first = try api.negotiation(slug: "us-china")
        let duplicate = try api.post("/v1/negotiations", #"{"slug":"us-china","title":"Again","parties":["USA","CHN"]}"#)
        Problems.assertProblem(duplicate, status: 409, code: "duplicate")
        XCTAssertEqual(try app.count("negotiations"), 1)

        let second = try api.negotiation(slug: "us-japan", parties: #"["USA","JPN"]"#)
        Problems.assertProblem(try api.patch("/v1/negotiations/\(second)", #"{"slug":"us-china"}"#), status: 409, code: "duplicate")
        XCTAssertEqual(try api.get("/v1/negotiations/\(second)").json()["slug"], .string("us-japan"))
        XCTAssertEqual(try api.get("/v1/negotiations/\(first)").json()["version"], .int(1))
    }

    // MARK: validation

    func testRequiredFieldsAreReportedTogether() throws {
        Problems.assertValidation(try api.post("/v1/negotiations", "{}"), ["/slug", "/title", "/parties"])
        Problems.assertValidation(try api.post("/v1/negotiations", #"{"slug":"x","title":"X"}"#), ["/parties"])
        XCTAssertEqual(try app.count("negotiations"), 0)
    }

    func testWrongTypesAreEachNamed() throws {
        let response = try api.post("/v1/negotiations", #"""
            {"slug":5,"title":true,"parties":"USA,CHN","status":1,"summary":["a"],"started_on":20250510,"ended_on":{}}
            """#)
        Problems.assertValidation(response, ["/slug", "/title", "/parties", "/status", "/summary", "/started_on", "/ended_on"])
    }

    func testStatusMustBeOneOfTheEnumeration() throws {
        Problems.assertValidation(try api.post("/v1/negotiations", #"{"slug":"a","title":"A","parties":["USA","CHN"],"status":"finished"}"#),
                                  ["/status"])
        Problems.assertValidation(try api.post("/v1/negotiations", #"{"slug":"a","title":"A","parties":["USA","CHN"],"status":"Active"}"#),
                                  ["/status"])
        for status in ["active", "paused", "concluded", "collapsed"] {
            try api.negotiation(extra: #","status":"\#(status)""#)
        }
    }

    func testPartiesMustBeAtLeastTwoDistinctKnownUpperCaseCodes() throws {
        func post(_ parties: String) throws -> TestResponse {
            try api.post("/v1/negotiations", #"{"slug":"\#(Fixtures.unique())","title":"T","parties":\#(parties)}"#)
        }
        Problems.assertValidation(try post(#"["USA","XXX"]"#), ["/parties/1"])
        Problems.assertValidation(try post(#"["usa","CHN"]"#), ["/parties/0"])
        Problems.assertValidation(try post(#"["US","CN"]"#), ["/parties/0", "/parties/1"])
        Problems.assertValidation(try post(#"["USA"]"#), ["/parties"])
        Problems.assertValidation(try post("[]"), ["/parties"])
        Problems.assertValidation(try post(#"["USA","USA"]"#), ["/parties/1"])
        Problems.assertValidation(try post(#"["USA","CHN","USA"]"#), ["/parties/2"])
        Problems.assertValidation(try post(#"["USA",5]"#), ["/parties/1"])
        XCTAssertEqual(try app.count("negotiations"), 0)
    }

    func testSlugPatternAndLength() throws {
        for slug in ["US-China", "us china", "us_china", "", "ü-talks", String(repeating: "a", count: 65)] {
            Problems.assertValidation(try api.post("/v1/negotiations", #"{"slug":"\#(slug)","title":"T","parties":["USA","CHN"]}"#),
                                      ["/slug"])
        }
        try api.negotiation(slug: String(repeating: "a", count: 64))
        try api.negotiation(slug: "us-china-2025")
        try api.negotiation(slug: "0")
    }

    func testTitleLengthIsCapped() throws {
        Problems.assertValidation(try api.post("/v1/negotiations", #"{"slug":"a","title":"\#(String(repeating: "x", count: 201))","parties":["USA","CHN"]}"#),
                                  ["/title"])
        Problems.assertValidation(try api.post("/v1/negotiations", #"{"slug":"a","title":"","parties":["USA","CHN"]}"#), ["/title"])
        let id = try api.negotiation(title: String(repeating: "é", count: 200))
        XCTAssertEqual(try api.get("/v1/negotiations/\(id)").json()["title"], .string(String(repeating: "é", count: 200)))
        Problems.assertValidation(try api.post("/v1/negotiations", #"{"slug":"b","title":"T","parties":["USA","CHN"],"summary":"\#(String(repeating: "s", count: 10_001))"}"#),
                                  ["/summary"])
    }

    func testDatesMustBeRealAndInOrder() throws {
        func post(_ extra: String) throws -> TestResponse {
            try api.post("/v1/negotiations", #"{"slug":"\#(Fixtures.unique())","title":"T","parties":["USA","CHN"]\#(extra)}"#)
        }
        Problems.assertValidation(try post(#","started_on":"2025-02-30""#), ["/started_on"])
        Problems.assertValidation(try post(#","started_on":"2025-5-1""#), ["/started_on"])
        Problems.assertValidation(try post(#","ended_on":"2025-05-12T00:00:00Z""#), ["/ended_on"])
        Problems.assertValidation(try post(#","started_on":"2025-05-12","ended_on":"2025-05-11""#), ["/ended_on"])
        try api.negotiation(extra: #","started_on":"2024-02-29""#)
    }

    func testUnknownAndReadOnlyFieldsAreRejected() throws {
        Problems.assertValidation(try api.post("/v1/negotiations", #"{"slug":"a","title":"T","parties":["USA","CHN"],"titel":"typo"}"#),
                                  ["/titel"])
        Problems.assertValidation(try api.post("/v1/negotiations", #"{"id":7,"slug":"a","title":"T","parties":["USA","CHN"],"version":1,"created_at":"2025-01-01T00:00:00Z"}"#),
                                  ["/id", "/version", "/created_at"])
        XCTAssertEqual(try app.count("negotiations"), 0)
    }

    func testSeveralProblemsInOneBodyAreReportedTogether() throws {
        let response = try api.post("/v1/negotiations", #"""
            {"slug":"Bad Slug","parties":["USA","usa"],"status":"done","started_on":"2025-02-30","extra":1}
            """#)
        Problems.assertValidation(response, ["/slug", "/parties/1", "/status", "/started_on", "/extra", "/title"])
        let json = try response.json()
        XCTAssertEqual(json["instance"], .string("/v1/negotiations"))
        XCTAssertEqual(json["request_id"], .string(response.headers["X-Request-ID"] ?? "-"))
    }

    // MARK: change log

    func testEveryWriteAppendsItsChangeRow() throws {
        let created = try api.post("/v1/negotiations", #"{"slug":"logged","title":"Logged","parties":["USA","CHN"],"started_on":"2025-05-10"}"#,
                                   headers: [("X-Request-ID", "neg-create-1")])
        XCTAssertEqual(created.headers["X-Request-ID"], "neg-create-1")
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        let patched = try api.patch("/v1/negotiations/\(id)", #"{"title":"Logged again","summary":"s","status":"active","record_complete_through":"2025-05-12"}"#)
        XCTAssertEqual(patched.status, 200)
        let deleted = try api.delete("/v1/negotiations/\(id)")
        XCTAssertEqual(deleted.status, 204)

        let rows = try app.changeRows("negotiations", id)
        XCTAssertEqual(rows.map(\.action), ["created", "updated", "deleted"])
        XCTAssertEqual(rows.map(\.actor), ["writer", "writer", "writer"])
        XCTAssertEqual(rows.map(\.requestID), ["neg-create-1", patched.headers["X-Request-ID"], deleted.headers["X-Request-ID"]])
        XCTAssertEqual(rows[0].changes, .object([
            ("slug", .change(.null, .string("logged"))),
            ("title", .change(.null, .string("Logged"))),
            ("parties", .change(.null, .array([.string("USA"), .string("CHN")]))),
            ("status", .change(.null, .string("active"))),
            ("summary", .change(.null, .null)),
            ("started_on", .change(.null, .string("2025-05-10"))),
            ("ended_on", .change(.null, .null)),
            ("record_complete_through", .change(.null, .null)),
        ]))
        XCTAssertEqual(rows[1].changes, .object([
            ("title", .change(.string("Logged"), .string("Logged again"))),
            ("summary", .change(.null, .string("s"))),
            ("record_complete_through", .change(.null, .string("2025-05-12"))),
        ]), "only the changed fields; status was sent unchanged")
        XCTAssertEqual(rows[2].changes, .object([
            ("slug", .change(.string("logged"), .null)),
            ("title", .change(.string("Logged again"), .null)),
            ("parties", .change(.array([.string("USA"), .string("CHN")]), .null)),
            ("status", .change(.string("active"), .null)),
            ("summary", .change(.string("s"), .null)),
            ("started_on", .change(.string("2025-05-10"), .null)),
            ("ended_on", .change(.null, .null)),
            ("record_complete_through", .change(.string("2025-05-12"), .null)),
        ]))
        XCTAssertTrue(rows[0].seq < rows[1].seq && rows[1].seq < rows[2].seq)
    }

    func testRefusedWritesAppendNoChangeRow() throws {
        let before = try app.count("change_log")
        Problems.assertValidation(try api.post("/v1/negotiations", "{}"), ["/slug", "/title", "/parties"])
        let id = try api.negotiation(slug: "dup")
        Problems.assertProblem(try api.post("/v1/negotiations", #"{"slug":"dup","title":"T","parties":["USA","CHN"]}"#),
                               status: 409, code: "duplicate")
        Problems.assertValidation(try api.patch("/v1/negotiations/\(id)", #"{"title":null}"#), ["/title"])
        XCTAssertEqual(try app.count("change_log"), before + 1, "only the one successful create is logged")
    }

    func testWritesNeedAWriteToken() throws {
        let reader = ResourceAPI(app, token: Fixtures.readToken)
        Problems.assertProblem(try reader.post("/v1/negotiations", #"{"slug":"a","title":"T","parties":["USA","CHN"]}"#),
                               status: 403, code: "forbidden")
        XCTAssertEqual(try app.count("negotiations"), 0)
    }
}
