import JSON
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// `/v1/participants` end to end: CRUD, validation, search by names and aliases, the `round_id` filter (API.md §2).
final class ParticipantsTests: XCTestCase {
    var app: TestApp!
    var api: ResourceAPI!

    static let fields = ["name", "aliases", "country", "title", "organization"]

    override func setUpWithError() throws {
        app = try Fixtures.app()
        api = ResourceAPI(app)
    }

    override func tearDown() { app.stop() }

    private func ids(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [Int] {
        let response = try api.get(path)
        XCTAssertEqual(response.status, 200, response.text, file: file, line: line)
        return try response.json()["data"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []
    }

    // MARK: create and read

    func testCreateReturns201WithTheFullRecordAndDefaults() throws {
        let response = try api.post("/v1/participants", #"{"name":"He Lifeng","country":"CHN"}"#)
        let json = try Lifecycle.assertCreated(response, collection: "/v1/participants", fields: Self.fields)
        XCTAssertEqual(json["name"], .string("He Lifeng"))
        XCTAssertEqual(json["aliases"], .array([]), "aliases default to an empty list")
        XCTAssertEqual(json["country"], .string("CHN"))
        XCTAssertEqual(json["title"], .null)
        XCTAssertEqual(json["organization"], .null)
        let id = try XCTUnwrap(json["id"]?.intValue)
        try Lifecycle.assertReads(api, "/v1/participants/\(id)", body: response.body, etag: response.headers["ETag"])
    }

    func testCreateWithEveryField() throws {
        let response = try api.post("/v1/participants", #"""
            {"name":"Scott Bessent","aliases":["Scott Benson","Besânt"],"country":"USA",
             "title":"Secretary of the Treasury","organization":"U.S. Department of the Treasury"}
            """#)
        let json = try Lifecycle.assertCreated(response, collection: "/v1/participants", fields: Self.fields)
        XCTAssertEqual(json["aliases"], .array([.string("Scott Benson"), .string("Besânt")]))
        XCTAssertEqual(json["title"], .string("Secretary of the Treasury"))
        XCTAssertEqual(json["organization"], .string("U.S. Department of the Treasury"))
    }

    // MARK: search

    func testSearchFindsANameOrAnAliasCaseAndAccentInsensitively() throws {
        let bessent = try api.participant(name: "Scott Bessent", extra: #","aliases":["Scott Benson","Besânt"],"title":"Secretary of the Treasury""#)
        let he = try api.participant(name: "He Lifeng", country: "CHN", extra: #","title":"Vice Premier""#)
        try api.participant(name: "Jamieson Greer", extra: #","aliases":["Jamison Greer"]"#)

        for q in ["benson", "bessent", "BESSENT", "besant", "Bes%C3%A2nt", "BES%C3%82NT"] {
            XCTAssertEqual(try ids("/v1/participants?q=\(q)"), [bessent], "q=\(q)")
        }
        XCTAssertEqual(try ids("/v1/participants?q=lifeng"), [he])
        XCTAssertEqual(try ids("/v1/participants?q=premier"), [he], "the title is searched too")
        XCTAssertEqual(try ids("/v1/participants?q=nobody"), [])
        XCTAssertEqual(try ids("/v1/participants?q=scott%20benson"), [bessent], "several words all match")
        XCTAssertEqual(try ids("/v1/participants?q=lifeng%20benson"), [], "words are AND-ed")
    }

    func testSearchFollowsAliasChangesAndDeletes() throws {
        let id = try api.participant(name: "Scott Bessent", extra: #","aliases":["Scott Benson"]"#)
        XCTAssertEqual(try ids("/v1/participants?q=benson"), [id])
        XCTAssertEqual(try api.patch("/v1/participants/\(id)", #"{"aliases":["Bessant"]}"#).status, 200)
        XCTAssertEqual(try ids("/v1/participants?q=benson"), [], "the old alias is no longer indexed")
        XCTAssertEqual(try ids("/v1/participants?q=bessant"), [id])
        XCTAssertEqual(try api.patch("/v1/participants/\(id)", #"{"aliases":[]}"#).status, 200)
        XCTAssertEqual(try ids("/v1/participants?q=bessant"), [])
        XCTAssertEqual(try api.delete("/v1/participants/\(id)").status, 204)
        XCTAssertEqual(try ids("/v1/participants?q=bessent"), [])
    }

    func testRoundIdFilterListsTheRoundsAttendees() throws {
        let negotiation = try api.negotiation()
        let geneva = try api.round(negotiation: negotiation, title: "Geneva")
        let london = try api.round(negotiation: negotiation, title: "London", starts: "2025-06-09", ends: "2025-06-10")
        let bessent = try api.participant(name: "Scott Bessent")
        let he = try api.participant(name: "He Lifeng", country: "CHN")
        let lutnick = try api.participant(name: "Howard Lutnick")
        try api.attend(round: geneva, participant: bessent)
        try api.attend(round: geneva, participant: he)
        try api.attend(round: london, participant: lutnick)
        try api.attend(round: london, participant: he)

        XCTAssertEqual(try ids("/v1/participants?round_id=\(geneva)"), [bessent, he])
        XCTAssertEqual(try ids("/v1/participants?round_id=\(london)"), [he, lutnick])
        XCTAssertEqual(try ids("/v1/participants?round_id=\(geneva),\(london)"), [bessent, he, lutnick])
        XCTAssertEqual(try ids("/v1/participants?round_id=\(geneva)&country=CHN"), [he])
        XCTAssertEqual(try ids("/v1/participants?round_id=9999"), [])
        XCTAssertEqual(try api.get("/v1/participants?round_id=abc").status, 400)
    }

    func testRoundsOfAParticipantListRoundsWithRole() throws {
        let negotiation = try api.negotiation()
        let london = try api.round(negotiation: negotiation, title: "London", starts: "2025-06-09", ends: "2025-06-10")
        let geneva = try api.round(negotiation: negotiation, title: "Geneva", starts: "2025-05-10", ends: "2025-05-11",
                                   extra: #","status":"concluded""#)
        let he = try api.participant(name: "He Lifeng", country: "CHN")
        try api.attend(round: london, participant: he, role: "delegate")
        try api.attend(round: geneva, participant: he, role: "lead")

        let response = try api.get("/v1/participants/\(he)/rounds")
        XCTAssertEqual(response.status, 200, response.text)
        let json = try response.json()
        XCTAssertEqual(json["next_cursor"], .null)
        let data = try XCTUnwrap(json["data"]?.arrayValue)
        XCTAssertEqual(data.map { $0["round_id"] }, [.int(geneva), .int(london)], "ordered by the round's start date")
        XCTAssertEqual(data.map { $0["role"] }, [.string("lead"), .string("delegate")])
        XCTAssertEqual(data.map { $0["participant_id"] }, [.int(he), .int(he)])
        XCTAssertEqual(data[0]["round"], .object([
            ("id", .int(geneva)), ("negotiation_id", .int(negotiation)), ("sequence", .int(2)),
            ("title", .string("Geneva")), ("city", .string("Geneva")), ("country", .string("CHE")),
            ("starts_on", .string("2025-05-10")), ("ends_on", .string("2025-05-11")), ("status", .string("concluded")),
        ]))

        let nobody = try api.participant(name: "Nobody")
        XCTAssertEqual(try api.get("/v1/participants/\(nobody)/rounds").text, #"{"data":[],"next_cursor":null}"#)
        Problems.assertProblem(try api.get("/v1/participants/9999/rounds"), status: 404, code: "not_found")
    }

    // MARK: update

    func testPatchChangesFieldsClearsWithNullAndBumpsVersion() throws {
        let created = try api.post("/v1/participants", #"{"name":"Scott Bessent","country":"USA","title":"Secretary","organization":"Treasury"}"#)
        let before = try created.json()
        let id = try XCTUnwrap(before["id"]?.intValue)
        Lifecycle.tick()
        let patched = try api.patch("/v1/participants/\(id)", #"{"title":"Secretary of the Treasury","organization":null,"aliases":["Scott Benson"]}"#)
        XCTAssertEqual(patched.status, 200, patched.text)
        let json = try patched.json()
        XCTAssertEqual(json["title"], .string("Secretary of the Treasury"))
        XCTAssertEqual(json["organization"], .null)
        XCTAssertEqual(json["aliases"], .array([.string("Scott Benson")]))
        XCTAssertEqual(json["name"], .string("Scott Bessent"))
        XCTAssertEqual(json["version"], .int(2))
        XCTAssertEqual(json["created_at"], before["created_at"])
        XCTAssertGreaterThan(json["updated_at"]?.stringValue ?? "", before["updated_at"]?.stringValue ?? "")
        try Lifecycle.assertReads(api, "/v1/participants/\(id)", body: patched.body, etag: patched.headers["ETag"])

        let same = try api.patch("/v1/participants/\(id)", #"{"aliases":["Scott Benson"],"name":"Scott Bessent"}"#)
        XCTAssertEqual(same.text, patched.text, "no change, same version")

        Problems.assertValidation(try api.patch("/v1/participants/\(id)", #"{"name":null,"country":null}"#), ["/name", "/country"])
        XCTAssertEqual(try api.get("/v1/participants/\(id)").json()["version"], .int(2))
    }

    // MARK: validation

    func testRequiredFieldsAndTypes() throws {
        Problems.assertValidation(try api.post("/v1/participants", "{}"), ["/name", "/country"])
        Problems.assertValidation(try api.post("/v1/participants", #"{"name":5,"country":"USA","aliases":"Benson","title":1,"organization":[]}"#),
                                  ["/name", "/aliases", "/title", "/organization"])
        Problems.assertValidation(try api.post("/v1/participants", #"{"name":"","country":"USA"}"#), ["/name"])
        XCTAssertEqual(try app.count("participants"), 0)
    }

    func testAliasesMustBeNonEmptyStringsWithinTheCaps() throws {
        Problems.assertValidation(try api.post("/v1/participants", #"{"name":"A","country":"USA","aliases":["ok","",7]}"#),
                                  ["/aliases/1", "/aliases/2"])
        Problems.assertValidation(try api.post("/v1/participants", #"{"name":"A","country":"USA","aliases":["\#(String(repeating: "a", count: 201))"]}"#),
                                  ["/aliases/0"])
        let fiftyOne = (0..<51).map { #""a\#($0)""# }.joined(separator: ",")
        Problems.assertValidation(try api.post("/v1/participants", #"{"name":"A","country":"USA","aliases":[\#(fiftyOne)]}"#), ["/aliases"])
        let fifty = (0..<50).map { #""a\#($0)""# }.joined(separator: ",")
        XCTAssertEqual(try api.post("/v1/participants", #"{"name":"A","country":"USA","aliases":[\#(fifty)]}"#).status, 201)
    }

    func testCountryMustBeAKnownUpperCaseCode() throws {
        for country in ["XXX", "usa", "US", "U.S."] {
            Problems.assertValidation(try api.post("/v1/participants", #"{"name":"A","country":"\#(country)"}"#), ["/country"])
        }
        XCTAssertEqual(try api.post("/v1/participants", #"{"name":"A","country":"EUN"}"#).status, 201)
    }

    func testStringLengthsAreCapped() throws {
        let long = String(repeating: "n", count: 201)
        Problems.assertValidation(try api.post("/v1/participants", #"{"name":"\#(long)","country":"USA","title":"\#(long)","organization":"\#(long)"}"#),
                                  ["/name", "/title", "/organization"])
    }

    func testUnknownReadOnlyAndSeveralProblemsTogether() throws {
        Problems.assertValidation(try api.post("/v1/participants", #"{"name":"A","country":"USA","nickname":"Scotty"}"#), ["/nickname"])
        Problems.assertValidation(try api.post("/v1/participants", #"{"name":"A","country":"USA","id":1,"created_at":"2025-01-01T00:00:00Z"}"#),
                                  ["/id", "/created_at"])
        Problems.assertValidation(try api.post("/v1/participants", #"{"country":"usa","aliases":[1],"role":"lead","version":3}"#),
                                  ["/country", "/aliases/0", "/role", "/version", "/name"])
    }

    // MARK: delete

    func testDeleteIs204ThenGone() throws {
        let id = try api.participant()
        try Lifecycle.assertDeletes(api, "/v1/participants/\(id)")
    }

    func testDeleteIsRefusedWhileTheParticipantAttendsARoundOrIsQuoted() throws {
        let negotiation = try api.negotiation()
        let round = try api.round(negotiation: negotiation)
        let id = try api.participant()
        try api.attend(round: round, participant: id)

        let refused = try api.delete("/v1/participants/\(id)")
        let json = Problems.assertProblem(refused, status: 409, code: "referenced")
        XCTAssertEqual(json?["referenced_by"], .object([("round-participants", .int(1))]))
        XCTAssertEqual(try api.get("/v1/participants/\(id)").status, 200, "still there")

        XCTAssertEqual(try api.delete("/v1/rounds/\(round)/participants/\(id)").status, 204)
        try api.create("/v1/statements", #"{"participant_id":\#(id),"said_on":"2025-05-12","text":"Substantial progress"}"#)
        let quoted = Problems.assertProblem(try api.delete("/v1/participants/\(id)"), status: 409, code: "referenced")
        XCTAssertEqual(quoted?["referenced_by"], .object([("statements", .int(1))]))
        XCTAssertEqual(try api.get("/v1/participants/\(id)").status, 200)
        XCTAssertEqual(try app.changeRows("participants", id).map(\.action), ["created"])
    }

    // MARK: change log

    func testEveryWriteAppendsItsChangeRow() throws {
        let created = try api.post("/v1/participants", #"{"name":"Scott Bessent","country":"USA","aliases":["Scott Benson"]}"#,
                                   headers: [("X-Request-ID", "p-1")])
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        let patched = try api.patch("/v1/participants/\(id)", #"{"aliases":["Scott Benson","Besânt"],"country":"USA"}"#)
        XCTAssertEqual(patched.status, 200)
        let deleted = try api.delete("/v1/participants/\(id)")
        XCTAssertEqual(deleted.status, 204)

        let rows = try app.changeRows("participants", id)
        XCTAssertEqual(rows.map(\.action), ["created", "updated", "deleted"])
        XCTAssertEqual(rows.map(\.actor), ["writer", "writer", "writer"])
        XCTAssertEqual(rows.map(\.requestID), ["p-1", patched.headers["X-Request-ID"], deleted.headers["X-Request-ID"]])
        XCTAssertEqual(rows[0].changes, .object([
            ("name", .change(.null, .string("Scott Bessent"))),
            ("aliases", .change(.null, .array([.string("Scott Benson")]))),
            ("country", .change(.null, .string("USA"))),
            ("title", .change(.null, .null)),
            ("organization", .change(.null, .null)),
        ]))
        XCTAssertEqual(rows[1].changes, .object([
            ("aliases", .change(.array([.string("Scott Benson")]), .array([.string("Scott Benson"), .string("Besânt")]))),
        ]))
        XCTAssertEqual(rows[2].changes, .object([
            ("name", .change(.string("Scott Bessent"), .null)),
            ("aliases", .change(.array([.string("Scott Benson"), .string("Besânt")]), .null)),
            ("country", .change(.string("USA"), .null)),
            ("title", .change(.null, .null)),
            ("organization", .change(.null, .null)),
        ]))
    }
}
