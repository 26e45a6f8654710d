import JSON
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// Round attendance end to end: `/v1/rounds/{id}/participants[/{participant_id}]` and `/v1/participants/{id}/rounds`.
final class AttendanceTests: XCTestCase {
    var app: TestApp!
    var api: ResourceAPI!
    var round = 0
    var bessent = 0
    var he = 0

    override func setUpWithError() throws {
        app = try Fixtures.app()
        api = ResourceAPI(app)
        let negotiation = try api.negotiation()
        round = try api.round(negotiation: negotiation)
        bessent = try api.participant(name: "Scott Bessent", extra: #","title":"Secretary of the Treasury""#)
        he = try api.participant(name: "He Lifeng", country: "CHN", extra: #","title":"Vice Premier""#)
    }

    override func tearDown() { app.stop() }

    func testAddingAParticipantIs201WithLocationETagAndTheRecord() throws {
        let response = try api.post("/v1/rounds/\(round)/participants", #"{"participant_id":\#(bessent),"role":"lead"}"#)
        XCTAssertEqual(response.status, 201, response.text)
        XCTAssertEqual(response.headers["Location"], "/v1/rounds/\(round)/participants/\(bessent)")
        XCTAssertNotNil(response.headers["ETag"])
        let json = try response.json()
        XCTAssertEqual(json.keys, ["round_id", "participant_id", "role", "participant", "created_at", "updated_at", "version"])
        XCTAssertEqual(json["round_id"], .int(round))
        XCTAssertEqual(json["participant_id"], .int(bessent))
        XCTAssertEqual(json["role"], .string("lead"))
        XCTAssertEqual(json["participant"], .object([("id", .int(bessent)), ("name", .string("Scott Bessent")),
                                                     ("country", .string("USA")), ("title", .string("Secretary of the Treasury"))]))
        XCTAssertEqual(json["version"], .int(1))
        XCTAssertTrue(Fixtures.isTimestamp(json["created_at"]?.stringValue))
        XCTAssertEqual(json["created_at"], json["updated_at"])

        // The Location answers with the same representation.
        let one = try api.get("/v1/rounds/\(round)/participants/\(bessent)")
        XCTAssertEqual(one.status, 200)
        XCTAssertEqual(one.text, response.text)
        XCTAssertEqual(one.headers["ETag"], response.headers["ETag"])
        let stored = try app.query("SELECT role FROM round_participants WHERE round_id = ? AND participant_id = ?",
                                   [.integer(Int64(round)), .integer(Int64(bessent))])
        XCTAssertEqual(stored.map { $0.text("role") }, ["lead"])
    }

    func testListShowsAttendeesLeadsFirst() throws {
        let mediator = try api.participant(name: "Karin Keller-Sutter", country: "CHE")
        let observer = try api.participant(name: "An Observer", country: "GBR")
        try api.attend(round: round, participant: observer, role: "observer")
        try api.attend(round: round, participant: he, role: "delegate")
        try api.attend(round: round, participant: mediator, role: "mediator")
        try api.attend(round: round, participant: bessent, role: "lead")

        let response = try api.get("/v1/rounds/\(round)/participants")
        XCTAssertEqual(response.status, 200, response.text)
        let json = try response.json()
        let data = try XCTUnwrap(json["data"]?.arrayValue)
        XCTAssertEqual(data.map { $0["participant_id"] }, [.int(bessent), .int(mediator), .int(he), .int(observer)])
        XCTAssertEqual(data.map { $0["role"] }, [.string("lead"), .string("mediator"), .string("delegate"), .string("observer")])
        XCTAssertEqual(data[2]["participant"]?["name"], .string("He Lifeng"))
        XCTAssertEqual(json["next_cursor"], .null)

        let empty = try api.round(negotiation: 1, starts: "2025-06-09", ends: "2025-06-10")
        XCTAssertEqual(try api.get("/v1/rounds/\(empty)/participants").text, #"{"data":[],"next_cursor":null}"#)
    }

    func testEveryRoleIsAcceptedAndOthersAre422() throws {
        let people = try (0..<4).map { try api.participant(name: "P\($0)") }
        for (person, role) in zip(people, ["lead", "delegate", "observer", "mediator"]) {
            try api.attend(round: round, participant: person, role: role)
        }
        for role in ["chief", "Lead", ""] {
            Problems.assertValidation(try api.post("/v1/rounds/\(round)/participants", #"{"participant_id":\#(bessent),"role":"\#(role)"}"#),
                                      ["/role"])
        }
    }

    func testValidation() throws {
        let path = "/v1/rounds/\(round)/participants"
        Problems.assertValidation(try api.post(path, "{}"), ["/participant_id", "/role"])
        Problems.assertValidation(try api.post(path, #"{"participant_id":"\#(bessent)","role":"lead"}"#), ["/participant_id"])
        Problems.assertValidation(try api.post(path, #"{"participant_id":\#(bessent),"role":"lead","note":"x"}"#), ["/note"])
        Problems.assertValidation(try api.post(path, #"{"participant_id":\#(bessent),"role":"lead","version":1}"#), ["/version"])
        Problems.assertValidation(try api.post(path, #"{"participant_id":null,"role":null}"#), ["/participant_id", "/role"])
        let missing = try api.post(path, #"{"participant_id":9999,"role":"lead"}"#)
        Problems.assertValidation(missing, ["/participant_id"])
        XCTAssertTrue(Problems.message(missing, "/participant_id")?.contains("9999") ?? false, missing.text)
        XCTAssertEqual(try app.count("round_participants"), 0)
    }

    func testAMissingRoundIs404() throws {
        Problems.assertProblem(try api.post("/v1/rounds/9999/participants", #"{"participant_id":\#(bessent),"role":"lead"}"#),
                               status: 404, code: "not_found")
        Problems.assertProblem(try api.get("/v1/rounds/9999/participants"), status: 404, code: "not_found")
        Problems.assertProblem(try api.get("/v1/rounds/\(round)/participants/\(bessent)"), status: 404, code: "not_found")
        XCTAssertEqual(try app.count("round_participants"), 0)
    }

    func testAParticipantAttendsARoundOnce() throws {
        try api.attend(round: round, participant: bessent, role: "lead")
        let duplicate = try api.post("/v1/rounds/\(round)/participants", #"{"participant_id":\#(bessent),"role":"delegate"}"#)
        Problems.assertProblem(duplicate, status: 409, code: "duplicate")
        XCTAssertEqual(try api.get("/v1/rounds/\(round)/participants/\(bessent)").json()["role"], .string("lead"))
        XCTAssertEqual(try app.count("round_participants"), 1)
        // The same person at another round is fine.
        let other = try api.round(negotiation: 1, starts: "2025-06-09", ends: "2025-06-10")
        try api.attend(round: other, participant: bessent, role: "delegate")
    }

    func testDeleteIs204ThenGoneAndASecondDeleteIs404() throws {
        try api.attend(round: round, participant: bessent)
        try api.attend(round: round, participant: he, role: "delegate")
        try Lifecycle.assertDeletes(api, "/v1/rounds/\(round)/participants/\(bessent)")
        let data = try api.get("/v1/rounds/\(round)/participants").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(data.map { $0["participant_id"] }, [.int(he)], "the other attendee stays")
        XCTAssertEqual(try api.get("/v1/participants/\(bessent)/rounds").text, #"{"data":[],"next_cursor":null}"#)
        // The participant and the round themselves are untouched, and may now be deleted.
        XCTAssertEqual(try api.get("/v1/participants/\(bessent)").status, 200)
        XCTAssertEqual(try api.delete("/v1/participants/\(bessent)").status, 204)
    }

    func testRoundsOfAParticipantShowTheRole() throws {
        try api.attend(round: round, participant: he, role: "lead")
        let data = try XCTUnwrap(try api.get("/v1/participants/\(he)/rounds").json()["data"]?.arrayValue)
        XCTAssertEqual(data.count, 1)
        XCTAssertEqual(data[0].keys, ["round_id", "participant_id", "role", "round", "created_at", "updated_at", "version"])
        XCTAssertEqual(data[0]["role"], .string("lead"))
        XCTAssertEqual(data[0]["round"]?["id"], .int(round))
        XCTAssertEqual(data[0]["round"]?["title"], .string("Geneva talks"))
    }

    func testEveryWriteAppendsItsChangeRow() throws {
        let created = try api.post("/v1/rounds/\(round)/participants", #"{"participant_id":\#(he),"role":"delegate"}"#,
                                   headers: [("X-Request-ID", "attend-1")])
        XCTAssertEqual(created.status, 201)
        let deleted = try api.delete("/v1/rounds/\(round)/participants/\(he)")
        XCTAssertEqual(deleted.status, 204)

        let rows = try app.changeRows("round-participants", round)
        XCTAssertEqual(rows.map(\.action), ["created", "deleted"])
        XCTAssertEqual(rows.map(\.actor), ["writer", "writer"])
        XCTAssertEqual(rows.map(\.requestID), ["attend-1", deleted.headers["X-Request-ID"]])
        XCTAssertEqual(rows[0].changes, .object([
            ("round_id", .change(.null, .int(round))),
            ("participant_id", .change(.null, .int(he))),
            ("role", .change(.null, .string("delegate"))),
        ]))
        XCTAssertEqual(rows[1].changes, .object([
            ("round_id", .change(.int(round), .null)),
            ("participant_id", .change(.int(he), .null)),
            ("role", .change(.string("delegate"), .null)),
        ]))
        // A refused duplicate writes nothing.
        try api.attend(round: round, participant: he)
        Problems.assertProblem(try api.post("/v1/rounds/\(round)/participants", #"{"participant_id":\#(he),"role":"lead"}"#),
                               status: 409, code: "duplicate")
        XCTAssertEqual(try app.changeRows("round-participants", round).count, 3)
    }

    func testAttendanceNeedsAWriteToken() throws {
        let reader = ResourceAPI(app, token: Fixtures.readToken)
        Problems.assertProblem(try reader.post("/v1/rounds/\(round)/participants", #"{"participant_id":\#(he),"role":"lead"}"#),
                               status: 403, code: "forbidden")
        try api.attend(round: round, participant: he)
        Problems.assertProblem(try reader.delete("/v1/rounds/\(round)/participants/\(he)"), status: 403, code: "forbidden")
        XCTAssertEqual(try app.count("round_participants"), 1)
    }
}
