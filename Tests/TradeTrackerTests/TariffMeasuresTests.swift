import JSON
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// `/v1/tariff-measures` end to end: exact rates, date rules and `in_effect_today` (API.md §2).
final class TariffMeasuresTests: XCTestCase {
    var app: TestApp!
    var api: ResourceAPI!

    static let fields = ["imposed_by", "imposed_on", "rate_percent", "coverage", "scope", "legal_basis", "status", "announced_on",
                         "effective_from", "effective_until", "suspensions", "hs_codes", "responds_to", "negotiation_id", "source_id", "notes",
                         "in_effect_today"]
    static let writable = Array(fields.dropLast())

    override func setUpWithError() throws {
        app = try Fixtures.app()
        api = ResourceAPI(app)
    }

    override func tearDown() { app.stop() }

    private func body(rate: String = "10", _ extra: String = "") -> String {
        #"{"imposed_by":"USA","imposed_on":"CHN","rate_percent":\#(rate),"effective_from":"2025-04-05"\#(extra)}"#
    }

    private func storedHundredths(_ id: Int) throws -> SQLValue? {
        try app.query("SELECT rate_hundredths FROM tariff_measures WHERE id = ?", [.integer(Int64(id))]).first?["rate_hundredths"]
    }

    // MARK: create and read

    func testCreateReturns201WithTheFullRecordAndDefaults() throws {
        let response = try api.post("/v1/tariff-measures", body())
        let json = try Lifecycle.assertCreated(response, collection: "/v1/tariff-measures", fields: Self.fields)
        XCTAssertEqual(json["imposed_by"], .string("USA"))
        XCTAssertEqual(json["imposed_on"], .string("CHN"))
        XCTAssertEqual(json["rate_percent"], .number("10"))
        XCTAssertEqual(json["coverage"], .string("all_goods"), "coverage defaults to all_goods")
        XCTAssertEqual(json["status"], .string("enacted"), "status defaults to enacted")
        for name in ["scope", "legal_basis", "announced_on", "effective_until", "negotiation_id", "source_id", "notes"] {
            XCTAssertEqual(json[name], .null, name)
        }
        for name in ["suspensions", "hs_codes", "responds_to"] {
            XCTAssertEqual(json[name], .array([]), "\(name) defaults to an empty list")
        }
        XCTAssertEqual(json["effective_from"], .string("2025-04-05"))
        XCTAssertEqual(json["in_effect_today"], .bool(true))
        let id = try XCTUnwrap(json["id"]?.intValue)
        try Lifecycle.assertReads(api, "/v1/tariff-measures/\(id)", body: response.body, etag: response.headers["ETag"])
    }

    func testCreateWithEveryField() throws {
        let negotiation = try api.negotiation()
        let source = try api.source(url: "https://www.whitehouse.gov/fact-sheets/2025/05/")
        let answered = try api.tariffMeasure(rate: "125", from: "2025-04-10")
        let response = try api.post("/v1/tariff-measures", #"""
            {"imposed_by":"CHN","imposed_on":"USA","rate_percent":125,"coverage":"partial","scope":"All US goods",
             "legal_basis":"Customs Tariff Commission notice","status":"withdrawn","announced_on":"2025-04-11",
             "effective_from":"2025-04-12","effective_until":"2025-05-14",
             "suspensions":[{"from":"2025-05-01","until":"2025-05-08","note":"Paused for a week"}],
             "hs_codes":["8541","870380"],"responds_to":[{"type":"tariff-measures","id":\#(answered)}],
             "negotiation_id":\#(negotiation),"source_id":\#(source),"notes":"Retaliation"}
            """#)
        let json = try Lifecycle.assertCreated(response, collection: "/v1/tariff-measures", fields: Self.fields)
        XCTAssertEqual(json["rate_percent"], .number("125"))
        XCTAssertEqual(json["coverage"], .string("partial"))
        XCTAssertEqual(json["scope"], .string("All US goods"))
        XCTAssertEqual(json["legal_basis"], .string("Customs Tariff Commission notice"))
        XCTAssertEqual(json["status"], .string("withdrawn"))
        XCTAssertEqual(json["announced_on"], .string("2025-04-11"))
        XCTAssertEqual(json["effective_until"], .string("2025-05-14"))
        XCTAssertEqual(json["suspensions"], .array([.object([
            ("from", .string("2025-05-01")), ("until", .string("2025-05-08")), ("note", .string("Paused for a week")),
        ])]))
        XCTAssertEqual(json["hs_codes"], .array([.string("8541"), .string("870380")]))
        XCTAssertEqual(json["responds_to"], .array([.object([("type", .string("tariff-measures")), ("id", .int(answered))])]))
        XCTAssertEqual(json["negotiation_id"], .int(negotiation))
        XCTAssertEqual(json["source_id"], .int(source))
        XCTAssertEqual(json["notes"], .string("Retaliation"))
        XCTAssertEqual(json["in_effect_today"], .bool(false))
    }

    // MARK: rate_percent

    func testRatesAreStoredExactlyAsHundredths() throws {
        let cases: [(sent: String, returned: String, hundredths: Int64)] = [
            ("12.5", "12.5", 1250), ("12.34", "12.34", 1234), ("0", "0", 0), ("0.05", "0.05", 5), ("1000", "1000", 100_000),
            ("145", "145", 14_500), ("20.10", "20.1", 2010), ("7.00", "7", 700), ("1000.00", "1000", 100_000),
        ]
        for (sent, returned, hundredths) in cases {
            let response = try api.post("/v1/tariff-measures", body(rate: sent))
            XCTAssertEqual(response.status, 201, "\(sent): \(response.text)")
            XCTAssertTrue(response.text.contains(#""rate_percent":\#(returned),"#), "\(sent) → \(response.text)")
            XCTAssertEqual(try response.json()["rate_percent"], .number(returned))
            let id = try XCTUnwrap(try response.json()["id"]?.intValue)
            XCTAssertEqual(try storedHundredths(id), .integer(hundredths), "stored as integer hundredths, never a float")
            XCTAssertEqual(try api.get("/v1/tariff-measures/\(id)").json()["rate_percent"], .number(returned))
        }
    }

    func testRatesOutOfRangeOrWithMoreThanTwoDecimalsAre422() throws {
        for rate in ["12.345", "1000.01", "-1", "-0.5", #""10""#, "1001", "null", "true", "0.001", "[10]"] {
            Problems.assertValidation(try api.post("/v1/tariff-measures", body(rate: rate)), ["/rate_percent"])
        }
        Problems.assertValidation(try api.post("/v1/tariff-measures", #"{"imposed_by":"USA","imposed_on":"CHN","effective_from":"2025-04-05"}"#),
                                  ["/rate_percent"])
        XCTAssertEqual(try app.count("tariff_measures"), 0)
        let id = try api.tariffMeasure(rate: "10")
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(id)", #"{"rate_percent":12.345}"#), ["/rate_percent"])
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(id)", #"{"rate_percent":null}"#), ["/rate_percent"])
        let patched = try api.patch("/v1/tariff-measures/\(id)", #"{"rate_percent":30.25}"#)
        XCTAssertEqual(try patched.json()["rate_percent"], .number("30.25"))
        XCTAssertEqual(try storedHundredths(id), .integer(3025))
    }

    // MARK: other rules

    func testImposedOnMustDifferFromImposedBy() throws {
        Problems.assertValidation(try api.post("/v1/tariff-measures", #"{"imposed_by":"USA","imposed_on":"USA","rate_percent":10,"effective_from":"2025-04-05"}"#),
                                  ["/imposed_on"])
        let id = try api.tariffMeasure()
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(id)", #"{"imposed_on":"USA"}"#), ["/imposed_on"])
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(id)", #"{"imposed_by":"CHN"}"#), ["/imposed_on"])
        XCTAssertEqual(try api.patch("/v1/tariff-measures/\(id)", #"{"imposed_by":"CHN","imposed_on":"USA"}"#).status, 200, "swapping both is fine")
    }

    func testCountriesMustBeKnownUpperCaseCodes() throws {
        Problems.assertValidation(try api.post("/v1/tariff-measures", #"{"imposed_by":"XXX","imposed_on":"usa","rate_percent":10,"effective_from":"2025-04-05"}"#),
                                  ["/imposed_by", "/imposed_on"])
        Problems.assertValidation(try api.post("/v1/tariff-measures", #"{"imposed_by":"US","imposed_on":"CHN","rate_percent":10,"effective_from":"2025-04-05"}"#),
                                  ["/imposed_by"])
        XCTAssertEqual(try api.post("/v1/tariff-measures", #"{"imposed_by":"EUN","imposed_on":"CHN","rate_percent":10,"effective_from":"2025-04-05"}"#).status, 201)
    }

    func testEffectiveUntilMustBeAfterEffectiveFrom() throws {
        Problems.assertValidation(try api.post("/v1/tariff-measures", body(#","effective_until":"2025-04-05""#)), ["/effective_until"])
        Problems.assertValidation(try api.post("/v1/tariff-measures", body(#","effective_until":"2025-04-04""#)), ["/effective_until"])
        XCTAssertEqual(try api.post("/v1/tariff-measures", body(#","effective_until":"2025-04-06""#)).status, 201, "one day in effect")
        let id = try api.tariffMeasure(from: "2025-04-05")
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(id)", #"{"effective_until":"2025-04-05"}"#), ["/effective_until"])
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(id)", #"{"effective_from":null}"#), ["/effective_from"])
    }

    func testDatesMustBeReal() throws {
        Problems.assertValidation(try api.post("/v1/tariff-measures", #"{"imposed_by":"USA","imposed_on":"CHN","rate_percent":10,"effective_from":"2025-02-30","announced_on":"2025-04-31","effective_until":"2025-13-01"}"#),
                                  ["/effective_from", "/announced_on", "/effective_until"])
    }

    func testEnumerationsLengthsAndTypes() throws {
        Problems.assertValidation(try api.post("/v1/tariff-measures", body(#","coverage":"some","status":"active""#)), ["/coverage", "/status"])
        Problems.assertValidation(try api.post("/v1/tariff-measures", body(#","legal_basis":"\#(String(repeating: "l", count: 501))""#)), ["/legal_basis"])
        Problems.assertValidation(try api.post("/v1/tariff-measures", body(#","notes":"\#(String(repeating: "n", count: 10_001))""#)), ["/notes"])
        Problems.assertValidation(try api.post("/v1/tariff-measures", body(#","scope":5,"negotiation_id":"1""#)), ["/scope", "/negotiation_id"])
        Problems.assertValidation(try api.post("/v1/tariff-measures", "{}"), ["/imposed_by", "/imposed_on", "/rate_percent", "/effective_from"])
    }

    func testMissingReferencesAre422NamingTheFields() throws {
        Problems.assertValidation(try api.post("/v1/tariff-measures", body(#","negotiation_id":9999,"source_id":9998"#)),
                                  ["/negotiation_id", "/source_id"])
        XCTAssertEqual(try app.count("tariff_measures"), 0)
    }

    func testUnknownReadOnlyAndSeveralProblemsTogether() throws {
        Problems.assertValidation(try api.post("/v1/tariff-measures", body(#","rate":10"#)), ["/rate"])
        Problems.assertValidation(try api.post("/v1/tariff-measures", body(#","in_effect_today":true,"id":1"#)), ["/in_effect_today", "/id"])
        let id = try api.tariffMeasure()
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(id)", #"{"in_effect_today":false}"#), ["/in_effect_today"])
        Problems.assertValidation(try api.post("/v1/tariff-measures", #"""
            {"imposed_by":"USA","imposed_on":"XXX","rate_percent":12.345,"effective_from":"2025-02-30","coverage":"most","negotiation_id":9999,"tariff":1}
            """#), ["/imposed_on", "/rate_percent", "/effective_from", "/coverage", "/tariff", "/negotiation_id"])
    }

    // MARK: in_effect_today

    func testInEffectTodayFollowsStatusAndDates() throws {
        let today = Fixtures.today()
        let cases: [(String, Bool, String)] = [
            (#","effective_from":"2020-01-01""#, true, "enacted, started in the past, no end"),
            (#","effective_from":"\#(today)""#, true, "starts today"),
            (#","effective_from":"2020-01-01","effective_until":"\#(Fixtures.today(offsetDays: 1))""#, true, "ends tomorrow (exclusive)"),
            (#","effective_from":"2020-01-01","effective_until":"\#(today)""#, false, "ended today (exclusive end)"),
            (#","effective_from":"2020-01-01","effective_until":"2021-01-01""#, false, "ended in the past"),
            (#","effective_from":"2999-01-01""#, false, "starts in the future"),
            (#","effective_from":"\#(Fixtures.today(offsetDays: 1))""#, false, "starts tomorrow"),
            (#","effective_from":"2020-01-01","status":"withdrawn""#, false, "withdrawn"),
            (#","effective_from":"2020-01-01","status":"proposed""#, false, "proposed"),
        ]
        for (extra, expected, why) in cases {
            let response = try api.post("/v1/tariff-measures", #"{"imposed_by":"USA","imposed_on":"CHN","rate_percent":10\#(extra)}"#)
            XCTAssertEqual(response.status, 201, response.text)
            XCTAssertEqual(try response.json()["in_effect_today"], .bool(expected), why)
            let id = try XCTUnwrap(try response.json()["id"]?.intValue)
            XCTAssertEqual(try api.get("/v1/tariff-measures/\(id)").json()["in_effect_today"], .bool(expected), why)
        }
    }

    func testInEffectTodayChangesWithAPatch() throws {
        let id = try api.tariffMeasure(from: "2020-01-01")
        XCTAssertEqual(try api.get("/v1/tariff-measures/\(id)").json()["in_effect_today"], .bool(true))
        let withdrawn = try api.patch("/v1/tariff-measures/\(id)", #"{"status":"withdrawn"}"#)
        XCTAssertEqual(try withdrawn.json()["in_effect_today"], .bool(false))
        let ended = try api.patch("/v1/tariff-measures/\(id)", #"{"status":"enacted","effective_until":"2021-01-01"}"#)
        XCTAssertEqual(try ended.json()["in_effect_today"], .bool(false))
        let reopened = try api.patch("/v1/tariff-measures/\(id)", #"{"effective_until":null}"#)
        XCTAssertEqual(try reopened.json()["in_effect_today"], .bool(true))
        XCTAssertEqual(try reopened.json()["effective_until"], .null)
        XCTAssertEqual(try reopened.json()["version"], .int(4))
    }

    // MARK: update and delete

    func testPatchChangesFieldsClearsWithNullAndBumpsVersion() throws {
        let created = try api.post("/v1/tariff-measures", body(#","notes":"draft","legal_basis":"IEEPA (fentanyl)""#))
        let before = try created.json()
        let id = try XCTUnwrap(before["id"]?.intValue)
        Lifecycle.tick()
        let patched = try api.patch("/v1/tariff-measures/\(id)", #"{"notes":null,"coverage":"partial","rate_percent":20}"#)
        XCTAssertEqual(patched.status, 200, patched.text)
        let json = try patched.json()
        XCTAssertEqual(json["notes"], .null)
        XCTAssertEqual(json["coverage"], .string("partial"))
        XCTAssertEqual(json["rate_percent"], .number("20"))
        XCTAssertEqual(json["legal_basis"], .string("IEEPA (fentanyl)"))
        XCTAssertEqual(json["version"], .int(2))
        XCTAssertEqual(json["created_at"], before["created_at"])
        XCTAssertGreaterThan(json["updated_at"]?.stringValue ?? "", before["updated_at"]?.stringValue ?? "")
        try Lifecycle.assertReads(api, "/v1/tariff-measures/\(id)", body: patched.body, etag: patched.headers["ETag"])
        XCTAssertEqual(try api.patch("/v1/tariff-measures/\(id)", #"{"rate_percent":20.00}"#).text, patched.text, "20.00 is 20: no change")
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(id)", #"{"imposed_by":null,"imposed_on":null}"#), ["/imposed_by", "/imposed_on"])
    }

    func testDeleteIs204ThenGone() throws {
        let id = try api.tariffMeasure()
        try Lifecycle.assertDeletes(api, "/v1/tariff-measures/\(id)")
    }

    func testEveryWriteAppendsItsChangeRow() throws {
        let created = try api.post("/v1/tariff-measures", body(rate: "12.5"))
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        let patched = try api.patch("/v1/tariff-measures/\(id)", #"{"rate_percent":30,"status":"enacted"}"#, headers: [("X-Request-ID", "tm-2")])
        let deleted = try api.delete("/v1/tariff-measures/\(id)")
        XCTAssertEqual(deleted.status, 204)

        let rows = try app.changeRows("tariff-measures", id)
        XCTAssertEqual(rows.map(\.action), ["created", "updated", "deleted"])
        XCTAssertEqual(rows.map(\.actor), ["writer", "writer", "writer"])
        XCTAssertEqual(rows.map(\.requestID), [created.headers["X-Request-ID"], "tm-2", deleted.headers["X-Request-ID"]])
        XCTAssertEqual(patched.headers["X-Request-ID"], "tm-2")
        XCTAssertEqual(rows[0].changes.keys, Self.writable, "in_effect_today is computed, not logged")
        XCTAssertEqual(rows[0].changes["rate_percent"], .change(.null, .number("12.5")), "the rate is logged as the API shows it")
        XCTAssertEqual(rows[0].changes["coverage"], .change(.null, .string("all_goods")))
        XCTAssertEqual(rows[0].changes["effective_until"], .change(.null, .null))
        for name in ["suspensions", "hs_codes", "responds_to"] {
            XCTAssertEqual(rows[0].changes[name], .change(.null, .array([])), name)
        }
        XCTAssertEqual(rows[1].changes, .object([("rate_percent", .change(.number("12.5"), .number("30")))]))
        XCTAssertEqual(rows[2].changes.keys, Self.writable)
        XCTAssertEqual(rows[2].changes["rate_percent"], .change(.number("30"), .null))
    }
}
