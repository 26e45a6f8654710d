import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// Suspension windows on tariff measures and export controls (API.md §2 "Measures … also carry", issue #10):
/// stored and validated, then honoured wherever "in effect" is computed — `in_effect_today`, `/v1/tariff-rates`
/// (with its `suspended` list), `/v1/tariff-rates/history`, `/v1/status` and the timeline.
final class SuspensionsTests: XCTestCase {
    var app: TestApp?
    var api: ResourceAPI!
    var view: ViewApp?

    override func tearDown() {
        app?.stop()
        view?.stop()
    }

    private func startApp() throws {
        let started = try Fixtures.app()
        app = started
        api = ResourceAPI(started)
    }

    /// POSTs a CAN→MEX measure effective [2025-03-01, `until`) with `windows` (JSON text).
    private func postMeasure(_ windows: String, until: String? = "2025-06-01") throws -> TestResponse {
        let end = until.map { #","effective_until":"\#($0)""# } ?? ""
        return try api.post("/v1/tariff-measures", #"""
            {"imposed_by":"CAN","imposed_on":"MEX","rate_percent":10,"effective_from":"2025-03-01"\#(end),"suspensions":\#(windows)}
            """#)
    }

    /// POSTs a CHN export control effective [`from`, `until`) with `windows` (JSON text).
    private func postControl(_ windows: String, from: String, until: String? = nil) throws -> TestResponse {
        let end = until.map { #","effective_until":"\#($0)""# } ?? ""
        return try api.post("/v1/export-controls", #"""
            {"imposed_by":"CHN","items":["rare-earth technologies"],"control":"licence_required","effective_from":"\#(from)"\#(end),"suspensions":\#(windows)}
            """#)
    }

    private func windows(_ list: [(String, String?)]) -> String { Measures.windowsJSON(list) }

    // MARK: stored

    func testWindowsAreStoredWithEveryMemberAndReadBack() throws {
        try startApp()
        let response = try postMeasure(#"[{"from":"2025-03-10","until":"2025-03-20","note":"Paused for talks"},{"from":"2025-04-01"}]"#)
        XCTAssertEqual(response.status, 201, response.text)
        let expected = JSONValue.array([
            Measures.window("2025-03-10", "2025-03-20", "Paused for talks"),
            Measures.window("2025-04-01", nil, nil),
        ])
        XCTAssertEqual(try response.json()["suspensions"], expected, "a window without until is open-ended; without note, note is null")
        let id = try XCTUnwrap(try response.json()["id"]?.intValue)
        try Lifecycle.assertReads(api, "/v1/tariff-measures/\(id)", body: response.body, etag: response.headers["ETag"])
        let stored = try XCTUnwrap(app?.query("SELECT suspensions FROM tariff_measures WHERE id = ?", [.integer(Int64(id))]).first?.text("suspensions"))
        XCTAssertEqual(try JSONParser.parse(Array(stored.utf8)), expected, "stored normalised: \(stored)")

        let control = try postControl(#"[{"from":"2025-11-10","until":"2026-11-10","note":"Announcement No. 70"}]"#, from: "2025-10-09")
        XCTAssertEqual(control.status, 201, control.text)
        XCTAssertEqual(try control.json()["suspensions"], .array([Measures.window("2025-11-10", "2026-11-10", "Announcement No. 70")]))
    }

    // MARK: validation

    func testAWindowMustShareAtLeastOneDayWithTheEffectivePeriod() throws {
        try startApp()
        // The measure is effective [2025-03-01, 2025-06-01): 1 March is its first day, 31 May its last.
        let refused: [(String, String?, String)] = [
            ("2025-01-01", "2025-03-01", "ends the day the measure takes effect (until is exclusive)"),
            ("2025-01-01", "2025-02-01", "wholly before"),
            ("2025-06-01", "2025-07-01", "starts the day the measure ends"),
            ("2025-07-01", nil, "open-ended, after the end"),
            ("2025-06-01", nil, "open-ended, from the end"),
        ]
        for (from, until, why) in refused {
            Problems.assertValidation(try postMeasure(windows([(from, until)])), ["/suspensions/0"])
            XCTAssertEqual(try app?.count("tariff_measures"), 0, why)
        }
        let accepted: [(String, String?, String)] = [
            ("2025-01-01", "2025-03-02", "begins before the measure, shares its first day"),
            ("2025-05-31", "2025-09-01", "shares the last day and outlives the measure"),
            ("2025-01-01", nil, "open-ended, covers everything"),
            ("2025-01-01", "2025-12-31", "begins before and outlives it"),
            ("2025-04-01", "2025-04-02", "one day inside"),
        ]
        for (from, until, why) in accepted {
            let response = try postMeasure(windows([(from, until)]))
            XCTAssertEqual(response.status, 201, "\(why): \(response.text)")
            XCTAssertEqual(try response.json()["suspensions"], .array([Measures.window(from, until)]), why)
        }
        // An open-ended measure: any window that ends after it starts.
        XCTAssertEqual(try postMeasure(windows([("2030-01-01", nil)]), until: nil).status, 201)
        Problems.assertValidation(try postMeasure(windows([("2025-01-01", "2025-03-01")]), until: nil), ["/suspensions/0"])
        // The pointer names the window at fault, each one.
        Problems.assertValidation(try postMeasure(windows([("2025-04-01", "2025-04-10"), ("2025-07-01", "2025-08-01")])), ["/suspensions/1"])
        Problems.assertValidation(try postMeasure(windows([("2025-01-01", "2025-02-01"), ("2025-07-01", "2025-08-01")])),
                                  ["/suspensions/0", "/suspensions/1"])
        XCTAssertEqual(try app?.count("tariff_measures"), Int64(accepted.count + 1))

        // Export controls by the same rule: suspended before it took effect (MOFCOM No. 61) is fine when it overlaps.
        XCTAssertEqual(try postControl(windows([("2025-11-10", "2026-11-10")]), from: "2025-12-01").status, 201)
        Problems.assertValidation(try postControl(windows([("2025-11-10", "2025-12-01")]), from: "2025-12-01"), ["/suspensions/0"])
        Problems.assertValidation(try postControl(windows([("2026-01-01", "2026-02-01")]), from: "2025-10-09", until: "2026-01-01"),
                                  ["/suspensions/0"])
        XCTAssertEqual(try postControl(windows([("2025-12-31", "2026-02-01")]), from: "2025-10-09", until: "2026-01-01").status, 201,
                       "outlives the control")
        XCTAssertEqual(try app?.count("export_controls"), 2)
    }

    func testUntilMustBeAfterFromAndEveryMemberOfAWindowIsChecked() throws {
        try startApp()
        let cases: [(String, [String])] = [
            (#"[{"from":"2025-04-01","until":"2025-04-01"}]"#, ["/suspensions/0/until"]),
            (#"[{"from":"2025-04-01","until":"2025-03-31"}]"#, ["/suspensions/0/until"]),
            (#"[{"until":"2025-04-01"}]"#, ["/suspensions/0/from"]),
            (#"[{"from":"2025-02-30","until":"2025-04-01"}]"#, ["/suspensions/0/from"]),
            (#"[{"from":20250401}]"#, ["/suspensions/0/from"]),
            (#"[{"from":"2025-04-01","until":"2025-13-01"}]"#, ["/suspensions/0/until"]),
            (#"[{"from":"2025-04-01","until":"soon"}]"#, ["/suspensions/0/until"]),
            (#"[{"from":"2025-04-01","note":""}]"#, ["/suspensions/0/note"]),
            (#"[{"from":"2025-04-01","note":5}]"#, ["/suspensions/0/note"]),
            (#"[{"from":"2025-04-01","note":"\#(String(repeating: "n", count: 2001))"}]"#, ["/suspensions/0/note"]),
            (#"[{"from":"2025-04-01","until":"2025-05-01","reason":"talks"}]"#, ["/suspensions/0/reason"]),
            (#"["2025-04-01"]"#, ["/suspensions/0"]),
            (#"{"from":"2025-04-01"}"#, ["/suspensions"]),
            (#""2025-04-01""#, ["/suspensions"]),
            (#"[{"from":"2025-04-01","until":"2025-04-01"},{"from":"2025-04-05","until":"2025-04-10","x":1}]"#,
             ["/suspensions/0/until", "/suspensions/1/x"]),
        ]
        for (windows, pointers) in cases {
            Problems.assertValidation(try postMeasure(windows), pointers)
        }
        XCTAssertEqual(try app?.count("tariff_measures"), 0)
        XCTAssertEqual(try app?.count("change_log"), 0, "a refused write logs nothing")
        let longest = try postMeasure(#"[{"from":"2025-04-01","note":"\#(String(repeating: "n", count: 2000))"}]"#)
        XCTAssertEqual(longest.status, 201, "a note of 2000 characters is fine")

        Problems.assertValidation(try postControl(#"[{"from":"2025-11-10","until":"2025-11-10"}]"#, from: "2025-10-09"),
                                  ["/suspensions/0/until"])
        let id = try XCTUnwrap(try longest.json()["id"]?.intValue)
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(id)", #"{"suspensions":[{"from":"2025-04-01","until":"2025-04-01"}]}"#),
                                  ["/suspensions/0/until"])
    }

    func testWindowsOfOneMeasureMustNotOverlapButMayTouch() throws {
        try startApp()
        let until = "2025-12-01"
        let overlapping: [([(String, String?)], String)] = [
            ([("2025-04-01", "2025-05-01"), ("2025-04-15", "2025-06-01")], "/suspensions/1"),
            ([("2025-04-01", "2025-05-01"), ("2025-04-01", "2025-05-01")], "/suspensions/1"),
            ([("2025-04-01", nil), ("2025-06-01", "2025-07-01")], "/suspensions/1"),
            ([("2025-04-01", "2025-05-01"), ("2025-05-01", "2025-06-01"), ("2025-05-15", "2025-07-01")], "/suspensions/2"),
            ([("2025-04-01", "2025-05-01"), ("2025-06-01", "2025-07-01"), ("2025-04-20", "2025-04-25")], "/suspensions/2"),
        ]
        for (list, pointer) in overlapping {
            Problems.assertValidation(try postMeasure(windows(list), until: until), [pointer])
        }
        XCTAssertEqual(try app?.count("tariff_measures"), 0)

        let adjacent: [(String, String?)] = [("2025-04-01", "2025-05-01"), ("2025-05-01", "2025-06-01"), ("2025-06-01", nil)]
        let touching = try postMeasure(windows(adjacent), until: until)
        XCTAssertEqual(touching.status, 201, "adjacent windows (an extension) are fine: \(touching.text)")
        XCTAssertEqual(try touching.json()["suspensions"], .array(adjacent.map { Measures.window($0.0, $0.1) }), "kept in the order sent")
        let unordered: [(String, String?)] = [("2025-06-01", "2025-07-01"), ("2025-04-01", "2025-05-01")]
        XCTAssertEqual(try postMeasure(windows(unordered), until: until).status, 201, "order does not matter")

        Problems.assertValidation(try postControl(windows([("2025-11-10", "2026-01-01"), ("2025-12-01", "2026-11-10")]), from: "2025-10-09"),
                                  ["/suspensions/1"])
        XCTAssertEqual(try postControl(windows([("2025-11-10", "2026-01-01"), ("2026-01-01", "2026-11-10")]), from: "2025-10-09").status, 201)
    }

    func testAPatchIsValidatedAgainstTheMergedRecord() throws {
        try startApp()
        let response = try postMeasure(windows([("2025-05-01", "2025-06-01")]), until: nil)
        XCTAssertEqual(response.status, 201, response.text)
        let id = try XCTUnwrap(try response.json()["id"]?.intValue)
        let path = "/v1/tariff-measures/\(id)"
        // Shortening the measure so that the stored window no longer shares a day with it.
        Problems.assertValidation(try api.patch(path, #"{"effective_until":"2025-05-01"}"#), ["/suspensions/0"])
        Problems.assertValidation(try api.patch(path, #"{"effective_until":"2025-04-15"}"#), ["/suspensions/0"])
        Problems.assertValidation(try api.patch(path, #"{"effective_from":"2025-06-01"}"#), ["/suspensions/0"])
        // New windows against the stored dates.
        Problems.assertValidation(try api.patch(path, #"{"suspensions":\#(windows([("2025-01-01", "2025-03-01")]))}"#), ["/suspensions/0"])
        Problems.assertValidation(try api.patch(path, #"{"suspensions":\#(windows([("2025-05-01", "2025-06-01"), ("2025-05-20", "2025-06-10")]))}"#),
                                  ["/suspensions/1"])
        XCTAssertEqual(try api.get(path).json()["version"], .int(1), "nothing refused was stored")
        XCTAssertEqual(try app?.changeRows("tariff-measures", id).map(\.action), ["created"])

        let shortened = try api.patch(path, #"{"effective_until":"2025-05-02"}"#)
        XCTAssertEqual(shortened.status, 200, "the window still shares 1 May: \(shortened.text)")
        XCTAssertEqual(try shortened.json()["version"], .int(2))
        // Both changed at once: judged together.
        let both = try api.patch(path, #"{"effective_until":"2025-04-01","suspensions":\#(windows([("2025-03-15", "2025-03-20")]))}"#)
        XCTAssertEqual(both.status, 200, both.text)
        XCTAssertEqual(try both.json()["suspensions"], .array([Measures.window("2025-03-15", "2025-03-20")]))
        Problems.assertValidation(try api.patch(path, #"{"effective_from":"2025-03-20"}"#), ["/suspensions/0"])

        let control = try postControl(windows([("2025-11-10", "2026-11-10")]), from: "2025-10-09")
        let controlID = try XCTUnwrap(try control.json()["id"]?.intValue)
        Problems.assertValidation(try api.patch("/v1/export-controls/\(controlID)", #"{"effective_until":"2025-11-10"}"#), ["/suspensions/0"])
        Problems.assertValidation(try api.patch("/v1/export-controls/\(controlID)", #"{"effective_from":"2026-11-10"}"#), ["/suspensions/0"])
        XCTAssertEqual(try api.patch("/v1/export-controls/\(controlID)", #"{"effective_until":"2025-11-11"}"#).status, 200)
    }

    func testEachExtensionIsInTheHistory() throws {
        try startApp()
        let first = #"{"from":"2025-05-14","until":"2025-08-12","note":"90 days"}"#
        let moved = #"{"from":"2025-05-14","until":"2025-11-10","note":"Extended to 10 Nov 2025"}"#
        let another = #"{"from":"2025-11-10","until":"2026-11-10","note":"Another year"}"#
        let created = try api.post("/v1/tariff-measures", #"""
            {"imposed_by":"USA","imposed_on":"CHN","rate_percent":24,"effective_from":"2025-05-14","suspensions":[\#(first)]}
            """#)
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        XCTAssertEqual(try api.patch("/v1/tariff-measures/\(id)", #"{"suspensions":[\#(moved)]}"#).status, 200)
        XCTAssertEqual(try api.patch("/v1/tariff-measures/\(id)", #"{"suspensions":[\#(moved),\#(another)]}"#).status, 200)
        let w1 = Measures.window("2025-05-14", "2025-08-12", "90 days")
        let w1Moved = Measures.window("2025-05-14", "2025-11-10", "Extended to 10 Nov 2025")
        let w2 = Measures.window("2025-11-10", "2026-11-10", "Another year")
        let history = try api.get("/v1/tariff-measures/\(id)/history").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(history.map { $0["action"] }, [.string("created"), .string("updated"), .string("updated")])
        XCTAssertEqual(history.first?["changes"]?["suspensions"], .change(.null, .array([w1])))
        XCTAssertEqual(history.dropFirst().first?["changes"], .object([("suspensions", .change(.array([w1]), .array([w1Moved])))]))
        XCTAssertEqual(history.last?["changes"], .object([("suspensions", .change(.array([w1Moved]), .array([w1Moved, w2])))]))
    }

    // MARK: honoured: in_effect_today

    func testInEffectTodayIsFalseOnTheDaysOfAWindow() throws {
        let clock = MovableClock("2025-06-15T12:00:00Z")
        let view = try ViewApp(clock: clock.clock)
        self.view = view
        func measure(_ windows: String) throws -> Int {
            try view.measure("CAN", "MEX", "10", from: "2025-01-01", extra: #","suspensions":\#(windows)"#)
        }
        let june = try measure(self.windows([("2025-06-01", "2025-07-01")]))
        let todayOnly = try measure(self.windows([("2025-06-15", "2025-06-16")]))
        let endedToday = try measure(self.windows([("2025-06-01", "2025-06-15")]))
        let fromTomorrow = try measure(self.windows([("2025-06-16", nil)]))
        let forever = try measure(self.windows([("2025-01-01", nil)]))
        let controlInJune = try view.exportControl(by: "CAN", from: "2025-01-01", extra: #","suspensions":\#(self.windows([("2025-06-01", "2025-07-01")]))"#)
        let controlEndedToday = try view.exportControl(by: "CAN", from: "2025-01-01", extra: #","suspensions":\#(self.windows([("2025-05-01", "2025-06-15")]))"#)

        func inEffect(_ path: String) throws -> JSONValue? { try view.json(path)["in_effect_today"] }
        let onJune15: [(String, Bool)] = [
            ("/v1/tariff-measures/\(june)", false), ("/v1/tariff-measures/\(todayOnly)", false),
            ("/v1/tariff-measures/\(endedToday)", true), ("/v1/tariff-measures/\(fromTomorrow)", true),
            ("/v1/tariff-measures/\(forever)", false),
            ("/v1/export-controls/\(controlInJune)", false), ("/v1/export-controls/\(controlEndedToday)", true),
        ]
        for (path, expected) in onJune15 { XCTAssertEqual(try inEffect(path), .bool(expected), "2025-06-15 \(path)") }
        let listed = try view.json("/v1/tariff-measures?imposed_by=CAN&limit=500")["data"]?.arrayValue ?? []
        XCTAssertEqual(listed.map { $0["in_effect_today"] ?? .null }, [.bool(false), .bool(false), .bool(true), .bool(true), .bool(false)],
                       "the list computes it the same way")

        clock.advance(days: 16)                                      // 2025-07-01: June's window is over
        let onJuly1: [(String, Bool)] = [
            ("/v1/tariff-measures/\(june)", true), ("/v1/tariff-measures/\(todayOnly)", true),
            ("/v1/tariff-measures/\(endedToday)", true), ("/v1/tariff-measures/\(fromTomorrow)", false),
            ("/v1/tariff-measures/\(forever)", false),
            ("/v1/export-controls/\(controlInJune)", true), ("/v1/export-controls/\(controlEndedToday)", true),
        ]
        for (path, expected) in onJuly1 { XCTAssertEqual(try inEffect(path), .bool(expected), "2025-07-01 \(path)") }
    }

    // MARK: honoured: rates, history, status

    /// CAN→MEX: a 10 % that always applies; a 25 % suspended by two adjacent windows (March, then April) and ending
    /// 1 Dec; a 5 % from 10 March suspended by a window that began before it (to 20 March); a partial and a withdrawn
    /// measure with windows that never count. MEX→CAN: a 20 % until 1 June whose window (from 1 May) outlives it, and
    /// a 10 % suspended open-ended from 1 Aug.
    private struct Seeded { var always = 0, extended = 0, early = 0, outlived = 0, openEnded = 0 }

    @discardableResult
    private func seed(_ view: ViewApp) throws -> Seeded {
        var ids = Seeded()
        ids.always = try view.measure("CAN", "MEX", "10", from: "2025-01-01")
        ids.extended = try view.measure("CAN", "MEX", "25", from: "2025-01-01", until: "2025-12-01", extra: #"""
            ,"suspensions":[{"from":"2025-03-01","until":"2025-04-01","note":"90 days"},{"from":"2025-04-01","until":"2025-05-01","note":"Extended"}]
            """#)
        ids.early = try view.measure("CAN", "MEX", "5", from: "2025-03-10", extra: #"""
            ,"suspensions":[{"from":"2025-03-01","until":"2025-03-20","note":"Suspended before it took effect"}]
            """#)
        try view.measure("CAN", "MEX", "40", from: "2025-01-01", extra: #","coverage":"partial","suspensions":\#(windows([("2025-03-01", "2025-04-01")]))"#)
        try view.measure("CAN", "MEX", "15", from: "2025-01-01", extra: #","status":"withdrawn","suspensions":\#(windows([("2025-03-01", "2025-04-01")]))"#)
        ids.outlived = try view.measure("MEX", "CAN", "20", from: "2025-01-01", until: "2025-06-01",
                                        extra: #","suspensions":\#(windows([("2025-05-01", "2025-09-01")]))"#)
        ids.openEnded = try view.measure("MEX", "CAN", "10", from: "2025-01-01", extra: #","suspensions":\#(windows([("2025-08-01", nil)]))"#)
        return ids
    }

    func testRatesCountWhatAppliesAndListWhatIsSuspendedWithItsWindow() throws {
        let view = try ViewApp()
        self.view = view
        let ids = try seed(view)
        func check(_ by: String, _ on: String, _ day: String, total: Int, counted: [Int], suspended: [(Int, JSONValue)],
                   line: UInt = #line) throws {
            let body = try view.rate(by, on, day, line: line)
            XCTAssertEqual(body["total_rate_percent"], .int(total), day, line: line)
            XCTAssertEqual((body["measures"]?.arrayValue ?? []).map { $0["id"]?.intValue ?? -1 }, counted, day, line: line)
            let listed = body["suspended"]?.arrayValue ?? []
            XCTAssertEqual(listed.map { $0["measure"]?["id"]?.intValue ?? -1 }, suspended.map(\.0), day, line: line)
            XCTAssertEqual(listed.map { $0["window"] ?? .null }, suspended.map(\.1), day, line: line)
            var sum = 0
            for (id, _) in suspended { sum += try view.json("/v1/tariff-measures/\(id)")["rate_percent"]?.intValue ?? 0 }
            XCTAssertEqual(body["suspended_rate_percent"], .int(sum), day, line: line)
            for entry in listed {
                XCTAssertEqual(entry.keys, ["window", "measure"], line: line)
                let id = try XCTUnwrap(entry["measure"]?["id"]?.intValue)
                XCTAssertEqual(entry["measure"], try view.json("/v1/tariff-measures/\(id)"), "the full record", line: line)
            }
        }
        let march = Measures.window("2025-03-01", "2025-04-01", "90 days")
        let april = Measures.window("2025-04-01", "2025-05-01", "Extended")
        let early = Measures.window("2025-03-01", "2025-03-20", "Suspended before it took effect")
        try check("CAN", "MEX", "2025-02-28", total: 35, counted: [ids.always, ids.extended], suspended: [])
        try check("CAN", "MEX", "2025-03-01", total: 10, counted: [ids.always], suspended: [(ids.extended, march)])
        // 9 March: the 5 % is not in force yet, so neither counted nor suspended.
        try check("CAN", "MEX", "2025-03-09", total: 10, counted: [ids.always], suspended: [(ids.extended, march)])
        try check("CAN", "MEX", "2025-03-10", total: 10, counted: [ids.always], suspended: [(ids.extended, march), (ids.early, early)])
        try check("CAN", "MEX", "2025-03-20", total: 15, counted: [ids.always, ids.early], suspended: [(ids.extended, march)])
        try check("CAN", "MEX", "2025-04-01", total: 15, counted: [ids.always, ids.early], suspended: [(ids.extended, april)])
        try check("CAN", "MEX", "2025-04-30", total: 15, counted: [ids.always, ids.early], suspended: [(ids.extended, april)])
        try check("CAN", "MEX", "2025-05-01", total: 40, counted: [ids.always, ids.extended, ids.early], suspended: [])
        try check("CAN", "MEX", "2025-12-01", total: 15, counted: [ids.always, ids.early], suspended: [])

        let outlived = Measures.window("2025-05-01", "2025-09-01")
        try check("MEX", "CAN", "2025-04-30", total: 30, counted: [ids.outlived, ids.openEnded], suspended: [])
        try check("MEX", "CAN", "2025-05-15", total: 10, counted: [ids.openEnded], suspended: [(ids.outlived, outlived)])
        // 1 July: the 20 % has ended, so its window suspends nothing any more.
        try check("MEX", "CAN", "2025-07-01", total: 10, counted: [ids.openEnded], suspended: [])
        try check("MEX", "CAN", "2025-08-01", total: 0, counted: [], suspended: [(ids.openEnded, Measures.window("2025-08-01", nil))])
        try check("MEX", "CAN", "2030-01-01", total: 0, counted: [], suspended: [(ids.openEnded, Measures.window("2025-08-01", nil))])
    }

    func testHistoryLeavesOutTheSuspendedDaysAndAdjacentWindowsMakeNoStep() throws {
        let view = try ViewApp()
        self.view = view
        try seed(view)
        XCTAssertEqual(try view.series("CAN", "MEX", from: "2025-01-01", to: "2025-12-31"), [
            "2025-01-01 2025-03-01 35",
            "2025-03-01 2025-03-20 10",
            "2025-03-20 2025-05-01 15",             // no step on 1 April: the extension continues the suspension
            "2025-05-01 2025-12-01 40",
            "2025-12-01 - 15",
        ])
        XCTAssertEqual(try view.series("MEX", "CAN", from: "2025-01-01", to: "2025-12-31"), [
            "2025-01-01 2025-05-01 30", "2025-05-01 2025-08-01 10", "2025-08-01 - 0",
        ], "nothing resumes when the 20 % ends inside its window; the open window never ends")
        XCTAssertEqual(try view.series("CAN", "MEX", from: "2025-03-05", to: "2025-03-05"), ["2025-03-05 2025-03-20 10"],
                       "a range inside a suspension: that period with its real end")
        XCTAssertEqual(try view.series("CAN", "MEX", from: "2025-04-15", to: "2025-06-30"), ["2025-04-15 2025-05-01 15", "2025-05-01 2025-12-01 40"])
    }

    func testTheStatusDocumentCountsOnlyWhatApplies() throws {
        let clock = MovableClock("2025-03-15T08:00:00Z")
        let view = try ViewApp(clock: clock.clock)
        self.view = view
        try seed(view)
        let negotiation = try view.create("/v1/negotiations", #"{"slug":"can-mex","title":"Canada–Mexico","parties":["CAN","MEX"]}"#)
        func rates() throws -> JSONValue? { try view.statusEntry(negotiation)["tariff_rates"] }
        func rate(_ by: String, _ on: String, _ total: Int) -> JSONValue {
            .object([("imposed_by", .string(by)), ("imposed_on", .string(on)), ("total_rate_percent", .int(total)), ("beyond_record", .bool(false))])
        }
        XCTAssertEqual(try rates(), .array([rate("CAN", "MEX", 10), rate("MEX", "CAN", 30)]), "15 March: the 25 % and the 5 % are suspended")
        clock.advance(days: 61)                                    // 2025-05-15
        XCTAssertEqual(try rates(), .array([rate("CAN", "MEX", 40), rate("MEX", "CAN", 10)]))
        clock.advance(days: 78)                                    // 2025-08-01
        XCTAssertEqual(try rates(), .array([rate("CAN", "MEX", 40), rate("MEX", "CAN", 0)]))
    }

    // MARK: honoured: the timeline

    /// `(date kind id)` of the negotiation's timeline items of `kinds`.
    private func events(_ view: ViewApp, _ negotiation: Int, _ kinds: String) throws -> [String] {
        (try view.json("/v1/negotiations/\(negotiation)/timeline?limit=500&kind=\(kinds)")["data"]?.arrayValue ?? []).map {
            "\($0["date"]?.stringValue ?? "?") \($0["kind"]?.stringValue ?? "?") \($0["ref"]?["type"]?.stringValue ?? "?") \($0["ref"]?["id"]?.intValue ?? -1)"
        }
    }

    private func title(_ view: ViewApp, _ negotiation: Int, kind: String, id: Int) throws -> String? {
        (try view.json("/v1/negotiations/\(negotiation)/timeline?limit=500&kind=\(kind)")["data"]?.arrayValue ?? [])
            .first { $0["ref"]?["id"]?.intValue == id }?["title"]?.stringValue
    }

    func testTariffSuspensionsAndResumptionsOnTheTimeline() throws {
        let view = try ViewApp()
        self.view = view
        let n = try view.create("/v1/negotiations", #"{"slug":"can-mex-timeline","title":"Canada–Mexico","parties":["CAN","MEX"]}"#)
        func measure(_ rate: String, _ basis: String, until: String? = "2025-12-01", _ windows: [(String, String?)], status: String = "enacted",
                     linked: Bool = true) throws -> Int {
            let link = linked ? #","negotiation_id":\#(n)"# : ""
            return try view.measure("CAN", "MEX", rate, from: "2025-01-01", until: until, extra: #"""
                ,"legal_basis":"\#(basis)","status":"\#(status)","suspensions":\#(self.windows(windows))\#(link)
                """#)
        }
        let once = try measure("10", "A", [("2025-02-01", "2025-03-01")])
        let extended = try measure("20", "B", [("2025-04-01", "2025-05-01"), ("2025-05-01", "2025-06-01")])
        let toTheEnd = try measure("30", "C", [("2025-11-01", "2025-12-01")])
        let openWindow = try measure("40", "D", until: nil, [("2025-07-01", nil)])
        let outlives = try measure("50", "E", until: "2025-08-01", [("2025-07-15", "2025-10-01")])
        _ = try measure("60", "F", [("2025-02-01", "2025-03-01")], status: "withdrawn")
        _ = try measure("70", "G", [("2025-02-01", "2025-03-01")], linked: false)

        XCTAssertEqual(try events(view, n, "tariff_suspended,tariff_resumed"), [
            "2025-02-01 tariff_suspended tariff-measures \(once)",
            "2025-03-01 tariff_resumed tariff-measures \(once)",
            "2025-04-01 tariff_suspended tariff-measures \(extended)",   // two adjacent windows: one suspension,
            "2025-06-01 tariff_resumed tariff-measures \(extended)",     // resumed when the second ends
            "2025-07-01 tariff_suspended tariff-measures \(openWindow)",  // never resumes
            "2025-07-15 tariff_suspended tariff-measures \(outlives)",    // ended on 1 Aug, inside its window: no resumption
            "2025-11-01 tariff_suspended tariff-measures \(toTheEnd)",    // the window ends with the measure: no resumption
        ])
        XCTAssertEqual(try events(view, n, "tariff_ended"), [
            "2025-08-01 tariff_ended tariff-measures \(outlives)",
            "2025-12-01 tariff_ended tariff-measures \(once)", "2025-12-01 tariff_ended tariff-measures \(extended)",
            "2025-12-01 tariff_ended tariff-measures \(toTheEnd)",
        ])
        XCTAssertEqual(try title(view, n, kind: "tariff_suspended", id: once), "CAN tariff of 10 % on MEX (A) suspended until 2025-03-01")
        XCTAssertEqual(try title(view, n, kind: "tariff_resumed", id: once), "CAN tariff of 10 % on MEX (A) applies again")
        XCTAssertEqual(try title(view, n, kind: "tariff_suspended", id: openWindow), "CAN tariff of 40 % on MEX (D) suspended")
        // In the full timeline the kinds keep their documented order on a shared day.
        let all = try events(view, n, Timeline.kinds.joined(separator: ","))
        XCTAssertEqual(all.filter { $0.hasPrefix("2025-12-01") }, [
            "2025-12-01 tariff_ended tariff-measures \(once)", "2025-12-01 tariff_ended tariff-measures \(extended)",
            "2025-12-01 tariff_ended tariff-measures \(toTheEnd)",
        ])
    }

    func testExportControlSuspensionsAndResumptionsOnTheTimeline() throws {
        let view = try ViewApp()
        self.view = view
        let n = try view.create("/v1/negotiations", #"{"slug":"can-mex-controls","title":"Canada–Mexico","parties":["CAN","MEX"]}"#)
        func control(_ basis: String, from: String, until: String? = nil, _ windows: [(String, String?)]) throws -> Int {
            let end = until.map { #","effective_until":"\#($0)""# } ?? ""
            return try view.exportControl(by: "CAN", items: #"["lumber"]"#, from: from, extra: #"""
                ,"legal_basis":"\#(basis)"\#(end),"negotiation_id":\#(n),"suspensions":\#(self.windows(windows))
                """#)
        }
        let once = try control("X", from: "2025-01-01", [("2025-03-01", "2025-04-01")])
        let beforeItStarts = try control("Y", from: "2025-12-01", [("2025-11-10", "2026-11-10")])
        let endsInside = try control("Z", from: "2025-01-01", until: "2025-06-01", [("2025-05-01", "2025-07-01")])
        let extended = try control("W", from: "2025-01-01", [("2025-08-01", "2025-09-01"), ("2025-09-01", "2025-10-01")])
        XCTAssertEqual(try events(view, n, "export_control_effective,export_control_ended,export_control_suspended,export_control_resumed"), [
            "2025-01-01 export_control_effective export-controls \(once)",
            "2025-01-01 export_control_effective export-controls \(endsInside)",
            "2025-01-01 export_control_effective export-controls \(extended)",
            "2025-03-01 export_control_suspended export-controls \(once)",
            "2025-04-01 export_control_resumed export-controls \(once)",
            "2025-05-01 export_control_suspended export-controls \(endsInside)",
            "2025-06-01 export_control_ended export-controls \(endsInside)",
            "2025-08-01 export_control_suspended export-controls \(extended)",
            "2025-10-01 export_control_resumed export-controls \(extended)",
            "2025-11-10 export_control_suspended export-controls \(beforeItStarts)",
            "2025-12-01 export_control_effective export-controls \(beforeItStarts)",
            "2026-11-10 export_control_resumed export-controls \(beforeItStarts)",
        ])
        XCTAssertEqual(try title(view, n, kind: "export_control_suspended", id: once),
                       "CAN export control (licence required) on lumber (X) suspended until 2025-04-01")
        XCTAssertEqual(try title(view, n, kind: "export_control_resumed", id: once), "CAN export control (licence required) on lumber (X) applies again")
        XCTAssertEqual(try title(view, n, kind: "export_control_ended", id: endsInside), "CAN export control (licence required) on lumber (Z) ends")
        XCTAssertEqual(try title(view, n, kind: "export_control_effective", id: once), "CAN export control (licence required) on lumber (X) takes effect")
    }

    /// Adjacent windows read as one suspension (issue #10), so the one `*_suspended` item of an extended suspension
    /// names the end of the whole suspension, not of its first window (no item marks the first window's end).
    func testAnExtendedSuspensionIsNamedUntilItsRealEnd() throws {
        let view = try ViewApp()
        self.view = view
        let n = try view.create("/v1/negotiations", #"{"slug":"can-mex-extended","title":"Canada–Mexico","parties":["CAN","MEX"]}"#)
        let extended = try view.measure("CAN", "MEX", "24", from: "2025-05-14", extra: #"""
            ,"legal_basis":"B","negotiation_id":\#(n),"suspensions":\#(windows([("2025-05-14", "2025-08-12"), ("2025-08-12", "2025-11-10"), ("2025-11-10", "2026-11-10")]))
            """#)
        XCTAssertEqual(try events(view, n, "tariff_suspended,tariff_resumed"), [
            "2025-05-14 tariff_suspended tariff-measures \(extended)", "2026-11-10 tariff_resumed tariff-measures \(extended)",
        ])
        XCTAssertEqual(try title(view, n, kind: "tariff_suspended", id: extended), "CAN tariff of 24 % on MEX (B) suspended until 2026-11-10")
    }
}
