import JSON
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// `/v1/rounds` end to end: CRUD, validation, sequence numbers and the status state machine (API.md §2).
final class RoundsTests: XCTestCase {
    var app: TestApp!
    var api: ResourceAPI!
    var negotiation = 0

    static let fields = ["negotiation_id", "sequence", "title", "city", "country", "starts_on", "ends_on", "status", "summary", "outcome", "source_id"]

    override func setUpWithError() throws {
        app = try Fixtures.app()
        api = ResourceAPI(app)
        negotiation = try api.negotiation(slug: "us-china-2025")
    }

    override func tearDown() { app.stop() }

    private func roundBody(_ extra: String = "", negotiation: Int? = nil) -> String {
        #"{"negotiation_id":\#(negotiation ?? self.negotiation),"title":"Geneva talks","city":"Geneva","country":"CHE","starts_on":"2025-05-10","ends_on":"2025-05-11"\#(extra)}"#
    }

    private func status(_ id: Int) throws -> JSONValue? { try api.get("/v1/rounds/\(id)").json()["status"] }

    // MARK: create and read

    func testCreateReturns201WithTheFullRecordAndDefaults() throws {
        let response = try api.post("/v1/rounds", roundBody())
        let json = try Lifecycle.assertCreated(response, collection: "/v1/rounds", fields: Self.fields)
        XCTAssertEqual(json["negotiation_id"], .int(negotiation))
        XCTAssertEqual(json["sequence"], .int(1))
        XCTAssertEqual(json["title"], .string("Geneva talks"))
        XCTAssertEqual(json["city"], .string("Geneva"))
        XCTAssertEqual(json["country"], .string("CHE"))
        XCTAssertEqual(json["starts_on"], .string("2025-05-10"))
        XCTAssertEqual(json["ends_on"], .string("2025-05-11"))
        XCTAssertEqual(json["status"], .string("scheduled"), "status defaults to scheduled")
        XCTAssertEqual(json["summary"], .null)
        XCTAssertEqual(json["outcome"], .null)
        XCTAssertEqual(json["source_id"], .null)
        let id = try XCTUnwrap(json["id"]?.intValue)
        try Lifecycle.assertReads(api, "/v1/rounds/\(id)", body: response.body, etag: response.headers["ETag"])
    }

    func testARoundMayBeCreatedDirectlyInAnyStatus() throws {
        let response = try api.post("/v1/rounds", roundBody(#","status":"concluded","summary":"Joint statement","outcome":"Tariffs cut to 30% / 10% for 90 days""#))
        let json = try Lifecycle.assertCreated(response, collection: "/v1/rounds", fields: Self.fields)
        XCTAssertEqual(json["status"], .string("concluded"))
        XCTAssertEqual(json["summary"], .string("Joint statement"))
        XCTAssertEqual(json["outcome"], .string("Tariffs cut to 30% / 10% for 90 days"))
        for status in ["in_progress", "postponed", "suspended", "cancelled"] {
            let created = try api.post("/v1/rounds", roundBody(#","status":"\#(status)""#))
            XCTAssertEqual(created.status, 201, created.text)
            XCTAssertEqual(try created.json()["status"], .string(status))
        }
    }

    func testSequenceIsAssignedOneTwoThreeWithinEachNegotiation() throws {
        let other = try api.negotiation(slug: "us-uk", parties: #"["USA","GBR"]"#)
        var sequences: [JSONValue?] = []
        for (n, starts) in [(negotiation, "2025-05-10"), (negotiation, "2025-06-09"), (other, "2025-05-01"), (negotiation, "2025-07-28"), (other, "2025-05-08")] {
            let response = try api.post("/v1/rounds", #"{"negotiation_id":\#(n),"title":"R","city":"London","country":"GBR","starts_on":"\#(starts)","ends_on":"\#(starts)"}"#)
            XCTAssertEqual(response.status, 201, response.text)
            sequences.append(try response.json()["sequence"])
        }
        XCTAssertEqual(sequences, [.int(1), .int(2), .int(1), .int(3), .int(2)])
        let stored = try app.query("SELECT negotiation_id, sequence FROM rounds ORDER BY id").map { [$0.int("negotiation_id"), $0.int("sequence")] }
        XCTAssertEqual(stored, [[1, 1], [1, 2], [2, 1], [1, 3], [2, 2]].map { $0.map { Int64?($0) } })
    }

    func testSequenceIsReadOnly() throws {
        Problems.assertValidation(try api.post("/v1/rounds", roundBody(#","sequence":4"#)), ["/sequence"])
        let id = try api.round(negotiation: negotiation)
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"sequence":9}"#), ["/sequence"])
        XCTAssertEqual(try api.get("/v1/rounds/\(id)").json()["sequence"], .int(1))
    }

    // MARK: update

    func testPatchChangesFieldsClearsWithNullAndBumpsVersion() throws {
        let created = try api.post("/v1/rounds", roundBody(#","summary":"draft""#))
        let before = try created.json()
        let id = try XCTUnwrap(before["id"]?.intValue)
        Lifecycle.tick()
        let patched = try api.patch("/v1/rounds/\(id)", #"{"city":"London","country":"GBR","summary":null,"outcome":"Framework agreed"}"#)
        XCTAssertEqual(patched.status, 200, patched.text)
        let json = try patched.json()
        XCTAssertEqual(json["city"], .string("London"))
        XCTAssertEqual(json["country"], .string("GBR"))
        XCTAssertEqual(json["summary"], .null)
        XCTAssertEqual(json["outcome"], .string("Framework agreed"))
        XCTAssertEqual(json["title"], .string("Geneva talks"))
        XCTAssertEqual(json["sequence"], .int(1))
        XCTAssertEqual(json["version"], .int(2))
        XCTAssertEqual(json["created_at"], before["created_at"])
        XCTAssertGreaterThan(json["updated_at"]?.stringValue ?? "", before["updated_at"]?.stringValue ?? "")
        try Lifecycle.assertReads(api, "/v1/rounds/\(id)", body: patched.body, etag: patched.headers["ETag"])

        let same = try api.patch("/v1/rounds/\(id)", #"{"city":"London"}"#)
        XCTAssertEqual(same.text, patched.text, "a patch that changes nothing keeps version and updated_at")
    }

    func testPatchNullOnRequiredFieldsIs422() throws {
        let id = try api.round(negotiation: negotiation)
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"title":null,"city":null,"country":null,"starts_on":null,"ends_on":null}"#),
                                  ["/title", "/city", "/country", "/starts_on", "/ends_on"])
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"negotiation_id":null}"#), ["/negotiation_id"])
        XCTAssertEqual(try api.get("/v1/rounds/\(id)").json()["version"], .int(1))
    }

    func testNegotiationIdCannotBeChangedByPatch() throws {
        let other = try api.negotiation(slug: "other", parties: #"["USA","JPN"]"#)
        let id = try api.round(negotiation: negotiation)
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"negotiation_id":\#(other)}"#), ["/negotiation_id"])
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"negotiation_id":9999}"#), ["/negotiation_id"])
        let json = try api.get("/v1/rounds/\(id)").json()
        XCTAssertEqual(json["negotiation_id"], .int(negotiation))
        XCTAssertEqual(json["version"], .int(1))
        // Sending the same negotiation_id is no change and is fine.
        XCTAssertEqual(try api.patch("/v1/rounds/\(id)", #"{"negotiation_id":\#(negotiation)}"#).status, 200)
    }

    func testPatchDateOrderIsCheckedOnTheMergedRecord() throws {
        let id = try api.round(negotiation: negotiation, starts: "2025-05-10", ends: "2025-05-11")
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"ends_on":"2025-05-09"}"#), ["/ends_on"])
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"starts_on":"2025-05-12"}"#), ["/ends_on"])
        let moved = try api.patch("/v1/rounds/\(id)", #"{"starts_on":"2025-05-12","ends_on":"2025-05-12"}"#)
        XCTAssertEqual(moved.status, 200, moved.text)
    }

    // MARK: state machine

    func testEveryAllowedTransitionSucceeds() throws {
        let id = try api.round(negotiation: negotiation)
        var version = 1
        for next in ["in_progress", "suspended", "in_progress", "concluded"] {
            let response = try api.patch("/v1/rounds/\(id)", #"{"status":"\#(next)"}"#)
            XCTAssertEqual(response.status, 200, "→ \(next): \(response.text)")
            version += 1
            XCTAssertEqual(try response.json()["status"], .string(next))
            XCTAssertEqual(try response.json()["version"], .int(version))
        }
        let postponed = try api.round(negotiation: negotiation)
        for next in ["postponed", "scheduled", "postponed", "cancelled"] {
            let response = try api.patch("/v1/rounds/\(postponed)", #"{"status":"\#(next)"}"#)
            XCTAssertEqual(response.status, 200, "→ \(next): \(response.text)")
        }
        XCTAssertEqual(try status(postponed), .string("cancelled"))
        // The remaining arrows: scheduled → cancelled, suspended → concluded.
        let cancelled = try api.round(negotiation: negotiation)
        XCTAssertEqual(try api.patch("/v1/rounds/\(cancelled)", #"{"status":"cancelled"}"#).status, 200)
        let suspended = try api.round(negotiation: negotiation, extra: #","status":"suspended""#)
        XCTAssertEqual(try api.patch("/v1/rounds/\(suspended)", #"{"status":"concluded"}"#).status, 200)
        XCTAssertEqual(try status(suspended), .string("concluded"))
    }

    func testRefusedTransitionsAre409NamingTheAllowedMoves() throws {
        let cases: [(from: String, to: String, allowed: [String])] = [
            ("concluded", "in_progress", []),
            ("scheduled", "concluded", ["in_progress", "postponed", "cancelled"]),
            ("scheduled", "suspended", ["in_progress", "postponed", "cancelled"]),
            ("postponed", "in_progress", ["scheduled", "cancelled"]),
            ("in_progress", "scheduled", ["concluded", "suspended"]),
            ("in_progress", "cancelled", ["concluded", "suspended"]),
            ("suspended", "postponed", ["in_progress", "concluded"]),
            ("cancelled", "scheduled", []),
            ("concluded", "scheduled", []),
        ]
        for (from, to, allowed) in cases {
            let id = try api.round(negotiation: negotiation, extra: #","status":"\#(from)""#)
            let response = try api.patch("/v1/rounds/\(id)", #"{"status":"\#(to)","summary":"should not be applied"}"#)
            let json = Problems.assertProblem(response, status: 409, code: "invalid_transition")
            XCTAssertEqual(json?["allowed_transitions"], .array(allowed.map(JSONValue.string)), "\(from) → \(to)")
            XCTAssertEqual(json?["type"], .string("/problems/invalid-transition"))
            let after = try api.get("/v1/rounds/\(id)").json()
            XCTAssertEqual(after["status"], .string(from), "\(from) → \(to) left the round alone")
            XCTAssertEqual(after["summary"], .null)
            XCTAssertEqual(after["version"], .int(1))
            XCTAssertEqual(try app.changeRows("rounds", id).map(\.action), ["created"])
        }
    }

    func testAFinalRoundCanStillBeEditedWithoutMovingItsStatus() throws {
        let id = try api.round(negotiation: negotiation, extra: #","status":"concluded""#)
        let edited = try api.patch("/v1/rounds/\(id)", #"{"outcome":"Geneva joint statement","status":"concluded"}"#)
        XCTAssertEqual(edited.status, 200, edited.text)
        XCTAssertEqual(try edited.json()["outcome"], .string("Geneva joint statement"))
        XCTAssertEqual(try edited.json()["version"], .int(2))
    }

    func testUnknownStatusIs422NotATransitionProblem() throws {
        let id = try api.round(negotiation: negotiation)
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"status":"done"}"#), ["/status"])
        Problems.assertValidation(try api.post("/v1/rounds", roundBody(#","status":"finished""#)), ["/status"])
    }

    // MARK: validation

    func testRequiredFields() throws {
        Problems.assertValidation(try api.post("/v1/rounds", "{}"),
                                  ["/negotiation_id", "/title", "/city", "/country", "/starts_on", "/ends_on"])
        Problems.assertValidation(try api.post("/v1/rounds", #"{"negotiation_id":\#(negotiation),"title":"T","city":"C","country":"CHE","starts_on":"2025-05-10"}"#),
                                  ["/ends_on"])
        XCTAssertEqual(try app.count("rounds"), 0)
    }

    func testWrongTypes() throws {
        let response = try api.post("/v1/rounds", #"""
            {"negotiation_id":"1","title":7,"city":null,"country":["CHE"],"starts_on":true,"ends_on":1.5,"summary":{},"outcome":false}
            """#)
        Problems.assertValidation(response, ["/negotiation_id", "/title", "/city", "/country", "/starts_on", "/ends_on", "/summary", "/outcome"])
        Problems.assertValidation(try api.post("/v1/rounds", roundBody().replacingOccurrences(of: #""negotiation_id":1"#, with: #""negotiation_id":1.5"#)),
                                  ["/negotiation_id"])
        Problems.assertValidation(try api.post("/v1/rounds", roundBody().replacingOccurrences(of: #""negotiation_id":1"#, with: #""negotiation_id":0"#)),
                                  ["/negotiation_id"])
    }

    func testCountryMustBeAKnownUpperCaseAlpha3Code() throws {
        for country in ["XXX", "usa", "Che", "CH", "CHEE"] {
            Problems.assertValidation(try api.post("/v1/rounds", roundBody().replacingOccurrences(of: #""CHE""#, with: #""\#(country)""#)),
                                      ["/country"])
        }
        let id = try api.round(negotiation: negotiation)
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"country":"XXX"}"#), ["/country"])
        XCTAssertEqual(try api.patch("/v1/rounds/\(id)", #"{"country":"EUN"}"#).status, 200)
    }

    func testDatesMustBeRealAndEndsOnNotBeforeStartsOn() throws {
        func post(_ starts: String, _ ends: String) throws -> TestResponse {
            try api.post("/v1/rounds", #"{"negotiation_id":\#(negotiation),"title":"T","city":"C","country":"CHE","starts_on":"\#(starts)","ends_on":"\#(ends)"}"#)
        }
        Problems.assertValidation(try post("2025-02-30", "2025-03-01"), ["/starts_on"])
        Problems.assertValidation(try post("2025-02-28", "2025-02-29"), ["/ends_on"])
        Problems.assertValidation(try post("2025-13-01", "2025-12-32"), ["/starts_on", "/ends_on"])
        Problems.assertValidation(try post("2025-05-11", "2025-05-10"), ["/ends_on"])
        XCTAssertEqual(try post("2025-05-10", "2025-05-10").status, 201, "a one-day round")
        XCTAssertEqual(try post("2024-02-29", "2024-03-01").status, 201, "leap day")
    }

    func testStringLengthsAreCapped() throws {
        let long = String(repeating: "x", count: 201)
        Problems.assertValidation(try api.post("/v1/rounds", roundBody().replacingOccurrences(of: "Geneva talks", with: long)), ["/title"])
        Problems.assertValidation(try api.post("/v1/rounds", roundBody().replacingOccurrences(of: #""city":"Geneva""#, with: #""city":"\#(long)""#)), ["/city"])
        Problems.assertValidation(try api.post("/v1/rounds", roundBody().replacingOccurrences(of: #""city":"Geneva""#, with: #""city":"""#)), ["/city"])
        Problems.assertValidation(try api.post("/v1/rounds", roundBody(#","outcome":"\#(String(repeating: "o", count: 10_001))""#)), ["/outcome"])
        XCTAssertEqual(try api.post("/v1/rounds", roundBody().replacingOccurrences(of: "Geneva talks", with: String(repeating: "x", count: 200))).status, 201)
    }

    func testAMissingNegotiationIs422NamingTheField() throws {
        let response = try api.post("/v1/rounds", roundBody(negotiation: 9999))
        Problems.assertValidation(response, ["/negotiation_id"])
        XCTAssertTrue(Problems.message(response, "/negotiation_id")?.contains("9999") ?? false, response.text)
        XCTAssertEqual(try app.count("rounds"), 0)
    }

    func testUnknownAndReadOnlyFieldsAreRejected() throws {
        Problems.assertValidation(try api.post("/v1/rounds", roundBody(#","venue":"Villa""#)), ["/venue"])
        Problems.assertValidation(try api.post("/v1/rounds", roundBody(#","id":3,"version":2,"updated_at":"2025-01-01T00:00:00Z""#)),
                                  ["/id", "/version", "/updated_at"])
    }

    func testSeveralProblemsInOneBodyAreReportedTogether() throws {
        let response = try api.post("/v1/rounds", #"""
            {"negotiation_id":9999,"title":"","country":"usa","starts_on":"2025-02-30","ends_on":"2025-05-10","status":"over","mood":"tense"}
            """#)
        Problems.assertValidation(response, ["/negotiation_id", "/title", "/country", "/starts_on", "/status", "/mood", "/city"])
    }

    // MARK: delete

    func testSourceIdNamesAStoredSourceAndKeepsItFromBeingDeleted() throws {
        let source = try api.source(url: "https://www.whitehouse.gov/briefings-statements/2025/05/joint-statement/")
        let created = try api.post("/v1/rounds", roundBody(#","source_id":\#(source)"#))
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(try created.json()["source_id"], .int(source))
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        Problems.assertValidation(try api.post("/v1/rounds", roundBody(#","source_id":9999"#)), ["/source_id"])
        Problems.assertValidation(try api.post("/v1/rounds", roundBody(#","source_id":"1""#)), ["/source_id"])
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"source_id":9999}"#), ["/source_id"])
        let json = Problems.assertProblem(try api.delete("/v1/sources/\(source)"), status: 409, code: "referenced")
        XCTAssertEqual(json?["referenced_by"], .object([("rounds", .int(1))]))
        let cleared = try api.patch("/v1/rounds/\(id)", #"{"source_id":null}"#)
        XCTAssertEqual(try cleared.json()["source_id"], .null)
        XCTAssertEqual(try app.changeRows("rounds", id).last?.changes, .object([("source_id", .change(.int(source), .null))]))
        XCTAssertEqual(try api.delete("/v1/sources/\(source)").status, 204)
    }

    func testDeleteIs204ThenGone() throws {
        let id = try api.round(negotiation: negotiation)
        try Lifecycle.assertDeletes(api, "/v1/rounds/\(id)")
    }

    func testDeleteIsRefusedWhileAttendanceOrStatementsReferenceTheRound() throws {
        let id = try api.round(negotiation: negotiation)
        let person = try api.participant()
        try api.attend(round: id, participant: person)
        try api.statement(extra: #","round_id":\#(id)"#)
        let json = Problems.assertProblem(try api.delete("/v1/rounds/\(id)"), status: 409, code: "referenced")
        XCTAssertEqual(json?["referenced_by"], .object([("round-participants", .int(1)), ("statements", .int(1))]))
        XCTAssertEqual(try api.get("/v1/rounds/\(id)").status, 200)
        XCTAssertEqual(try app.changeRows("rounds", id).map(\.action), ["created"])
    }

    // MARK: change log

    func testEveryWriteAppendsItsChangeRow() throws {
        let created = try api.post("/v1/rounds", roundBody())
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        let moved = try api.patch("/v1/rounds/\(id)", #"{"status":"in_progress","summary":"Day one"}"#, headers: [("X-Request-ID", "round-move-1")])
        XCTAssertEqual(moved.status, 200)
        let deleted = try api.delete("/v1/rounds/\(id)")

        let rows = try app.changeRows("rounds", id)
        XCTAssertEqual(rows.map(\.action), ["created", "updated", "deleted"])
        XCTAssertEqual(rows.map(\.actor), ["writer", "writer", "writer"])
        XCTAssertEqual(rows.map(\.requestID), [created.headers["X-Request-ID"], "round-move-1", deleted.headers["X-Request-ID"]])
        XCTAssertEqual(rows[0].changes, .object([
            ("negotiation_id", .change(.null, .int(negotiation))),
            ("sequence", .change(.null, .int(1))),
            ("title", .change(.null, .string("Geneva talks"))),
            ("city", .change(.null, .string("Geneva"))),
            ("country", .change(.null, .string("CHE"))),
            ("starts_on", .change(.null, .string("2025-05-10"))),
            ("ends_on", .change(.null, .string("2025-05-11"))),
            ("status", .change(.null, .string("scheduled"))),
            ("summary", .change(.null, .null)),
            ("outcome", .change(.null, .null)),
            ("source_id", .change(.null, .null)),
        ]))
        XCTAssertEqual(rows[1].changes, .object([
            ("status", .change(.string("scheduled"), .string("in_progress"))),
            ("summary", .change(.null, .string("Day one"))),
        ]))
        XCTAssertEqual(rows[2].changes["status"], .change(.string("in_progress"), .null))
        XCTAssertEqual(rows[2].changes["sequence"], .change(.int(1), .null))
        XCTAssertEqual(rows[2].changes.keys, Self.fields)
    }
}
