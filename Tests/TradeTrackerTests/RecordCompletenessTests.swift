import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// How far a negotiation's data is checked against the public record (API.md §3): the negotiation field
/// `record_complete_through`, and `beyond_record` on the status document's "as of today" figures — `tariff_rates`,
/// `last_round`, `next_round` and `export_controls_in_effect` — true exactly when today is after that date.
final class RecordCompletenessTests: XCTestCase {
    var view: ViewApp?
    var app: TestApp?

    override func tearDown() {
        view?.stop()
        app?.stop()
    }

    // MARK: the negotiation field

    func testNegotiationsTakeARecordCompleteThroughDate() throws {
        let started = try Fixtures.app()
        app = started
        let api = ResourceAPI(started)
        let created = try api.post("/v1/negotiations", #"{"slug":"checked","title":"Checked","parties":["USA","CHN"],"record_complete_through":"2025-05-16"}"#)
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(try created.json()["record_complete_through"], .string("2025-05-16"))
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        XCTAssertEqual(try api.get("/v1/negotiations/by-slug/checked").json()["record_complete_through"], .string("2025-05-16"))
        for bad in [#""2025-02-30""#, #""16 May 2025""#, "20250516", #""2025-05-16T00:00:00Z""#, #""2025-5-16""#, "true", "[]"] {
            Problems.assertValidation(try api.post("/v1/negotiations", #"""
                {"slug":"\#(Fixtures.unique())","title":"T","parties":["USA","CHN"],"record_complete_through":\#(bad)}
                """#), ["/record_complete_through"])
            Problems.assertValidation(try api.patch("/v1/negotiations/\(id)", #"{"record_complete_through":\#(bad)}"#), ["/record_complete_through"])
        }
        let moved = try api.patch("/v1/negotiations/\(id)", #"{"record_complete_through":"2025-11-10"}"#)
        XCTAssertEqual(try moved.json()["record_complete_through"], .string("2025-11-10"))
        XCTAssertEqual(try moved.json()["version"], .int(2))
        let cleared = try api.patch("/v1/negotiations/\(id)", #"{"record_complete_through":null}"#)
        XCTAssertEqual(cleared.status, 200, cleared.text)
        XCTAssertEqual(try cleared.json()["record_complete_through"], .null, "optional: null clears it")
        XCTAssertEqual(try started.changeRows("negotiations", id).last?.changes,
                       .object([("record_complete_through", .change(.string("2025-11-10"), .null))]))
    }

    // MARK: beyond_record

    private static func rate(_ by: String, _ on: String, _ total: Int, _ beyond: Bool) -> JSONValue {
        .object([("imposed_by", .string(by)), ("imposed_on", .string(on)), ("total_rate_percent", .int(total)), ("beyond_record", .bool(beyond))])
    }

    private static func controls(_ counts: [(String, Int)], _ beyond: Bool) -> JSONValue {
        .array(counts.map { .object([("imposed_by", .string($0.0)), ("count", .int($0.1)), ("beyond_record", .bool(beyond))]) })
    }

    private static func beijing(_ beyond: Bool) -> JSONValue {
        .object([("id", .int(7)), ("title", .string("Beijing summit")), ("starts_on", .string("2026-05-14")), ("ends_on", .string("2026-05-16")),
                 ("status", .string("concluded")), ("beyond_record", .bool(beyond))])
    }

    func testTheDemoIsWithinItsRecordThroughTheSummitsLastDayAndBeyondItAfter() throws {
        let clock = MovableClock("2026-05-16T23:59:00Z")
        let view = try ViewApp(clock: clock.clock)
        self.view = view
        let checked = try view.statusEntry(1)
        XCTAssertEqual(checked["record_complete_through"], .string("2026-05-16"))
        XCTAssertEqual(checked["last_round"], Self.beijing(false), "today is the last checked day: not beyond")
        XCTAssertEqual(checked["next_round"], .null)
        XCTAssertEqual(checked["tariff_rates"], .array([Self.rate("USA", "CHN", 10, false), Self.rate("CHN", "USA", 10, false)]))
        XCTAssertEqual(checked["export_controls_in_effect"], Self.controls([("USA", 0), ("CHN", 1)], false))
        let tag = try XCTUnwrap(try view.get("/v1/status").headers["ETag"])

        clock.advance(days: 1)                                     // 2026-05-17: past the checked record
        let beyond = try view.statusEntry(1)
        XCTAssertEqual(beyond["record_complete_through"], .string("2026-05-16"))
        XCTAssertEqual(beyond["last_round"], Self.beijing(true))
        XCTAssertEqual(beyond["next_round"], .null)
        XCTAssertEqual(beyond["tariff_rates"], .array([Self.rate("USA", "CHN", 10, true), Self.rate("CHN", "USA", 10, true)]))
        XCTAssertEqual(beyond["export_controls_in_effect"], Self.controls([("USA", 0), ("CHN", 1)], true))
        XCTAssertNotEqual(try view.get("/v1/status", headers: [("If-None-Match", tag)]).status, 304, "a new day, a new document")

        // Whoever maintains the data checks further: the flags follow the field at once.
        XCTAssertEqual(try view.send("PATCH", "/v1/negotiations/1", #"{"record_complete_through":"2026-06-30"}"#).status, 200)
        let extended = try view.statusEntry(1)
        XCTAssertEqual(extended["record_complete_through"], .string("2026-06-30"))
        XCTAssertEqual(extended["last_round"], Self.beijing(false))
        XCTAssertEqual(extended["tariff_rates"], .array([Self.rate("USA", "CHN", 10, false), Self.rate("CHN", "USA", 10, false)]))
        XCTAssertEqual(extended["export_controls_in_effect"], Self.controls([("USA", 0), ("CHN", 1)], false))

        clock.advance(days: 178)                                   // 2026-11-11: the 24 points apply again, as scheduled
        let november = try view.statusEntry(1)
        XCTAssertEqual(november["tariff_rates"], .array([Self.rate("USA", "CHN", 0, true), Self.rate("CHN", "USA", 34, true)]))
        XCTAssertEqual(november["export_controls_in_effect"], Self.controls([("USA", 1), ("CHN", 4)], true))

        XCTAssertEqual(try view.send("PATCH", "/v1/negotiations/1", #"{"record_complete_through":null}"#).status, 200)
        let unknown = try view.statusEntry(1)
        XCTAssertEqual(unknown["record_complete_through"], .null)
        XCTAssertEqual(unknown["last_round"], Self.beijing(false), "no record date: never flagged")
        XCTAssertEqual(unknown["tariff_rates"], .array([Self.rate("USA", "CHN", 0, false), Self.rate("CHN", "USA", 34, false)]))
        XCTAssertEqual(unknown["export_controls_in_effect"], Self.controls([("USA", 1), ("CHN", 4)], false))
    }

    func testBothRoundsAreFlaggedAndANegotiationWithoutARecordDateNeverIs() throws {
        let clock = MovableClock("2026-03-01T12:00:00Z")
        let view = try ViewApp(clock: clock.clock)
        self.view = view
        func negotiation(_ slug: String, _ record: String?) throws -> Int {
            let member = record.map { #","record_complete_through":"\#($0)""# } ?? ""
            let id = try view.create("/v1/negotiations", #"{"slug":"\#(slug)","title":"UK–France","parties":["GBR","FRA"]\#(member)}"#)
            try view.create("/v1/rounds", #"""
                {"negotiation_id":\#(id),"title":"Paris","city":"Paris","country":"FRA","starts_on":"2026-01-10","ends_on":"2026-01-11","status":"concluded"}
                """#)
            try view.create("/v1/rounds", #"""
                {"negotiation_id":\#(id),"title":"London","city":"London","country":"GBR","starts_on":"2026-06-01","ends_on":"2026-06-02"}
                """#)
            return id
        }
        let unchecked = try negotiation("unchecked", nil)
        let stale = try negotiation("stale", "2026-01-31")
        let yesterday = try negotiation("through-yesterday", "2026-02-28")
        let current = try negotiation("current", "2026-03-01")
        let ahead = try negotiation("ahead", "2026-12-31")
        for (id, beyond, why) in [(unchecked, false, "null"), (stale, true, "a month old"), (yesterday, true, "one day old"),
                                  (current, false, "today"), (ahead, false, "checked ahead")] {
            let entry = try view.statusEntry(id)
            XCTAssertEqual(entry["last_round"]?["title"], .string("Paris"), why)
            XCTAssertEqual(entry["last_round"]?["beyond_record"], .bool(beyond), why)
            XCTAssertEqual(entry["next_round"]?["title"], .string("London"), why)
            XCTAssertEqual(entry["next_round"]?["beyond_record"], .bool(beyond), "\(why): the next round as scheduled is flagged too")
            XCTAssertEqual(entry["tariff_rates"], .array([Self.rate("GBR", "FRA", 0, beyond), Self.rate("FRA", "GBR", 0, beyond)]), why)
            XCTAssertEqual(entry["export_controls_in_effect"], Self.controls([("GBR", 0), ("FRA", 0)], beyond), why)
        }
        XCTAssertEqual(try view.statusEntry(unchecked)["record_complete_through"], .null)
        XCTAssertEqual(try view.statusEntry(stale)["record_complete_through"], .string("2026-01-31"))
        // The demo negotiation, checked through 2026-05-16, is not beyond its record on 1 March 2026.
        XCTAssertEqual(try view.statusEntry(1)["tariff_rates"], .array([Self.rate("USA", "CHN", 10, false), Self.rate("CHN", "USA", 10, false)]))
    }

    // MARK: export_controls_in_effect

    func testExportControlsInEffectArePerPartyAndReachAnotherParty() throws {
        let clock = MovableClock("2025-06-15T08:00:00Z")
        let view = try ViewApp(clock: clock.clock)
        self.view = view
        let id = try view.create("/v1/negotiations", #"{"slug":"north-america","title":"North America","parties":["CAN","MEX","JPN"]}"#)
        func control(_ by: String, _ extra: String, from: String = "2025-01-01") throws {
            try view.exportControl(by: by, from: from, extra: extra)
        }
        try control("CAN", #","applies_to":[]"#)                        // every destination: counts
        try control("CAN", #","applies_to":["MEX"]"#)                   // another party: counts
        try control("CAN", #","applies_to":["BRA"]"#)                   // no other party: does not
        try control("CAN", #","applies_to":["BRA","JPN"]"#)             // one other party among others: counts
        try control("CAN", #","suspensions":[{"from":"2025-06-10","until":"2025-06-20"}]"#)
        try control("CAN", #","status":"withdrawn""#)
        try control("CAN", #","status":"proposed""#)
        try control("CAN", "", from: "2025-06-16")                       // tomorrow
        try control("CAN", #","effective_until":"2025-06-15""#)          // ended today
        try control("MEX", #","applies_to":["CAN"]"#)
        try control("BRA", #","applies_to":["CAN"]"#)                   // not a party
        XCTAssertEqual(try view.statusEntry(id)["export_controls_in_effect"], Self.controls([("CAN", 3), ("MEX", 1), ("JPN", 0)], false))
        XCTAssertEqual(try view.statusEntry(1)["export_controls_in_effect"], Self.controls([("USA", 0), ("CHN", 2)], false),
                       "the demo's count is its own parties'")

        clock.advance(days: 5)                                           // 2025-06-20: the window is over, tomorrow has come
        XCTAssertEqual(try view.statusEntry(id)["export_controls_in_effect"], Self.controls([("CAN", 5), ("MEX", 1), ("JPN", 0)], false))
        XCTAssertEqual(try view.send("PATCH", "/v1/export-controls/\(try view.ids("/v1/export-controls?imposed_by=MEX").first ?? 0)",
                                     #"{"applies_to":["BRA"]}"#).status, 200)
        XCTAssertEqual(try view.statusEntry(id)["export_controls_in_effect"], Self.controls([("CAN", 5), ("MEX", 0), ("JPN", 0)], false))
    }
}
