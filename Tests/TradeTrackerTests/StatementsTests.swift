import JSON
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// `/v1/statements` end to end: who said what, and where it was reported (API.md §2).
final class StatementsTests: XCTestCase {
    var app: TestApp!
    var api: ResourceAPI!

    static let fields = ["participant_id", "speaker", "said_on", "text", "context", "negotiation_id", "round_id", "issue_id", "source_id"]

    override func setUpWithError() throws {
        app = try Fixtures.app()
        api = ResourceAPI(app)
    }

    override func tearDown() { app.stop() }

    // MARK: create and read

    func testCreateWithASpeakerReturns201WithTheFullRecord() throws {
        let response = try api.post("/v1/statements", #"{"speaker":"A MOFCOM spokesperson","said_on":"2025-05-12","text":"Substantial progress"}"#)
        let json = try Lifecycle.assertCreated(response, collection: "/v1/statements", fields: Self.fields)
        XCTAssertEqual(json["participant_id"], .null)
        XCTAssertEqual(json["speaker"], .string("A MOFCOM spokesperson"))
        XCTAssertEqual(json["said_on"], .string("2025-05-12"))
        XCTAssertEqual(json["text"], .string("Substantial progress"))
        for name in ["context", "negotiation_id", "round_id", "issue_id", "source_id"] { XCTAssertEqual(json[name], .null, name) }
        let id = try XCTUnwrap(json["id"]?.intValue)
        try Lifecycle.assertReads(api, "/v1/statements/\(id)", body: response.body, etag: response.headers["ETag"])
    }

    func testCreateWithAParticipantAndEveryReference() throws {
        let negotiation = try api.negotiation()
        let round = try api.round(negotiation: negotiation)
        let issue = try api.issue(negotiation: negotiation)
        let source = try api.source(url: "https://home.treasury.gov/news")
        let bessent = try api.participant()
        let response = try api.post("/v1/statements", #"""
            {"participant_id":\#(bessent),"said_on":"2025-05-11","text":"We have made substantial progress","context":"Press briefing in Geneva",
             "negotiation_id":\#(negotiation),"round_id":\#(round),"issue_id":\#(issue),"source_id":\#(source)}
            """#)
        let json = try Lifecycle.assertCreated(response, collection: "/v1/statements", fields: Self.fields)
        XCTAssertEqual(json["participant_id"], .int(bessent))
        XCTAssertEqual(json["speaker"], .null)
        XCTAssertEqual(json["context"], .string("Press briefing in Geneva"))
        XCTAssertEqual(json["negotiation_id"], .int(negotiation))
        XCTAssertEqual(json["round_id"], .int(round))
        XCTAssertEqual(json["issue_id"], .int(issue))
        XCTAssertEqual(json["source_id"], .int(source))
    }

    // MARK: exactly one of participant_id / speaker

    func testExactlyOneOfParticipantIdAndSpeaker() throws {
        let bessent = try api.participant()
        Problems.assertValidation(try api.post("/v1/statements", #"{"said_on":"2025-05-12","text":"x"}"#), ["/participant_id"])
        Problems.assertValidation(try api.post("/v1/statements", #"{"said_on":"2025-05-12","text":"x","participant_id":null,"speaker":null}"#),
                                  ["/participant_id"])
        Problems.assertValidation(try api.post("/v1/statements", #"{"said_on":"2025-05-12","text":"x","participant_id":\#(bessent),"speaker":"Bessent"}"#),
                                  ["/speaker"])
        XCTAssertEqual(try app.count("statements"), 0)
    }

    func testPatchKeepsExactlyOneSpeaker() throws {
        let bessent = try api.participant()
        let id = try api.statement(speaker: "A US official")
        Problems.assertValidation(try api.patch("/v1/statements/\(id)", #"{"speaker":null}"#), ["/participant_id"])
        Problems.assertValidation(try api.patch("/v1/statements/\(id)", #"{"participant_id":\#(bessent)}"#), ["/speaker"])
        let switched = try api.patch("/v1/statements/\(id)", #"{"participant_id":\#(bessent),"speaker":null}"#)
        XCTAssertEqual(switched.status, 200, switched.text)
        XCTAssertEqual(try switched.json()["participant_id"], .int(bessent))
        XCTAssertEqual(try switched.json()["speaker"], .null)
        XCTAssertEqual(try switched.json()["version"], .int(2))
        Problems.assertValidation(try api.patch("/v1/statements/\(id)", #"{"participant_id":9999,"speaker":null}"#), ["/participant_id"])
    }

    // MARK: validation

    func testRequiredFieldsTypesDatesAndLengths() throws {
        Problems.assertValidation(try api.post("/v1/statements", #"{"speaker":"S"}"#), ["/said_on", "/text"])
        Problems.assertValidation(try api.post("/v1/statements", #"{"speaker":"S","said_on":"2025-02-30","text":""}"#), ["/said_on", "/text"])
        // (A too-long speaker is in KnownBugsResourcesTests: it also draws a spurious /participant_id.)
        Problems.assertValidation(try api.post("/v1/statements", #"{"speaker":"S","said_on":"2025-05-12","text":"\#(String(repeating: "t", count: 10_001))"}"#),
                                  ["/text"])
        Problems.assertValidation(try api.post("/v1/statements", #"{"speaker":"S","said_on":"12 May 2025","text":true,"issue_id":"3"}"#),
                                  ["/said_on", "/text", "/issue_id"])
        XCTAssertEqual(try app.count("statements"), 0)
    }

    func testMissingReferencesAre422NamingEachField() throws {
        let response = try api.post("/v1/statements", #"""
            {"speaker":"S","said_on":"2025-05-12","text":"x","negotiation_id":9991,"round_id":9992,"issue_id":9993,"source_id":9994}
            """#)
        Problems.assertValidation(response, ["/negotiation_id", "/round_id", "/issue_id", "/source_id"])
        XCTAssertTrue(Problems.message(response, "/round_id")?.contains("9992") ?? false, response.text)
        Problems.assertValidation(try api.post("/v1/statements", #"{"participant_id":9999,"said_on":"2025-05-12","text":"x"}"#), ["/participant_id"])
        XCTAssertEqual(try app.count("statements"), 0)
    }

    func testUnknownReadOnlyAndSeveralProblemsTogether() throws {
        Problems.assertValidation(try api.post("/v1/statements", #"{"speaker":"S","said_on":"2025-05-12","text":"x","quote":"y"}"#), ["/quote"])
        Problems.assertValidation(try api.post("/v1/statements", #"{"speaker":"S","said_on":"2025-05-12","text":"x","id":1,"created_at":"x"}"#),
                                  ["/id", "/created_at"])
        Problems.assertValidation(try api.post("/v1/statements", #"{"said_on":"2025-02-29","round_id":9999,"lang":"en"}"#),
                                  ["/said_on", "/lang", "/text", "/participant_id", "/round_id"])
    }

    // MARK: update and delete

    func testPatchChangesFieldsClearsWithNullAndBumpsVersion() throws {
        let created = try api.post("/v1/statements", #"{"speaker":"S","said_on":"2025-05-12","text":"x","context":"briefing"}"#)
        let before = try created.json()
        let id = try XCTUnwrap(before["id"]?.intValue)
        Lifecycle.tick()
        let patched = try api.patch("/v1/statements/\(id)", #"{"context":null,"text":"Substantial progress","said_on":"2025-05-11"}"#)
        XCTAssertEqual(patched.status, 200, patched.text)
        let json = try patched.json()
        XCTAssertEqual(json["context"], .null)
        XCTAssertEqual(json["text"], .string("Substantial progress"))
        XCTAssertEqual(json["said_on"], .string("2025-05-11"))
        XCTAssertEqual(json["version"], .int(2))
        XCTAssertEqual(json["created_at"], before["created_at"])
        XCTAssertGreaterThan(json["updated_at"]?.stringValue ?? "", before["updated_at"]?.stringValue ?? "")
        try Lifecycle.assertReads(api, "/v1/statements/\(id)", body: patched.body, etag: patched.headers["ETag"])
        XCTAssertEqual(try api.patch("/v1/statements/\(id)", #"{"speaker":"S"}"#).text, patched.text, "no change, same version")
        Problems.assertValidation(try api.patch("/v1/statements/\(id)", #"{"text":null,"said_on":null,"speaker":"S"}"#), ["/text", "/said_on"])
    }

    func testDeleteIs204ThenGone() throws {
        let id = try api.statement()
        try Lifecycle.assertDeletes(api, "/v1/statements/\(id)")
    }

    func testEveryWriteAppendsItsChangeRow() throws {
        let created = try api.post("/v1/statements", #"{"speaker":"S","said_on":"2025-05-12","text":"x"}"#, headers: [("X-Request-ID", "st-1")])
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        let patched = try api.patch("/v1/statements/\(id)", #"{"text":"y","speaker":"S"}"#)
        let deleted = try api.delete("/v1/statements/\(id)")
        XCTAssertEqual(deleted.status, 204)

        let rows = try app.changeRows("statements", id)
        XCTAssertEqual(rows.map(\.action), ["created", "updated", "deleted"])
        XCTAssertEqual(rows.map(\.actor), ["writer", "writer", "writer"])
        XCTAssertEqual(rows.map(\.requestID), ["st-1", patched.headers["X-Request-ID"], deleted.headers["X-Request-ID"]])
        XCTAssertEqual(rows[0].changes, .object([
            ("participant_id", .change(.null, .null)),
            ("speaker", .change(.null, .string("S"))),
            ("said_on", .change(.null, .string("2025-05-12"))),
            ("text", .change(.null, .string("x"))),
            ("context", .change(.null, .null)),
            ("negotiation_id", .change(.null, .null)),
            ("round_id", .change(.null, .null)),
            ("issue_id", .change(.null, .null)),
            ("source_id", .change(.null, .null)),
        ]))
        XCTAssertEqual(rows[1].changes, .object([("text", .change(.string("x"), .string("y")))]))
        XCTAssertEqual(rows[2].changes.keys, Self.fields)
        XCTAssertEqual(rows[2].changes["text"], .change(.string("y"), .null))
        XCTAssertEqual(rows[2].changes["speaker"], .change(.string("S"), .null))
    }
}
