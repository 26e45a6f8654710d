import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// API.md §3 and the rate endpoints of §2, end to end over a socket, on the demo data (demo-facts.md).
final class ViewsTests: XCTestCase {
    var api: ViewApp!

    override func tearDown() { api?.stop() }

    private func rate(_ by: String, _ on: String, _ day: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        try api.json("/v1/tariff-rates?imposed_by=\(by)&imposed_on=\(on)&as_of=\(day)", file: file, line: line)
    }

    /// The series as `from until total` lines, `-` for an open end.
    private func series(_ query: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        try api.json("/v1/tariff-rates/history?\(query)", file: file, line: line)["data"]?.arrayValue?.map { row in
            "\(row["from"]?.stringValue ?? "?") \(row["until"]?.stringValue ?? "-") \(row["total_rate_percent"].map { String(decoding: $0.encoded, as: UTF8.self) } ?? "?")"
        } ?? []
    }

    private func assertInvalid(_ path: String, _ parameter: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let response = try api.get(path)
        let problem = Problems.assertProblem(response, status: 400, code: "invalid_parameter", file: file, line: line)
        XCTAssertEqual(problem?["errors"]?.arrayValue?.first?["pointer"], .string("?\(parameter)"), "\(path): \(response.text)",
                       file: file, line: line)
    }

    // MARK: tariff rates

    func testRatesOnTheDemoDaysWithTheMeasuresThatMakeThem() throws {
        api = try ViewApp()
        let geneva = try rate("USA", "CHN", "2025-05-09")
        XCTAssertEqual(geneva.keys, ["imposed_by", "imposed_on", "as_of", "total_rate_percent", "measures", "suspended_rate_percent", "suspended"])
        XCTAssertEqual(geneva["imposed_by"], .string("USA"))
        XCTAssertEqual(geneva["imposed_on"], .string("CHN"))
        XCTAssertEqual(geneva["as_of"], .string("2025-05-09"))
        XCTAssertEqual(geneva["total_rate_percent"], .int(145))
        let measures = geneva["measures"]?.arrayValue ?? []
        XCTAssertEqual(measures.compactMap { $0["legal_basis"]?.stringValue },
                       ["IEEPA (fentanyl), EO 14195", "IEEPA (fentanyl), EO 14228", "IEEPA (reciprocal), EO 14266"])
        XCTAssertEqual(measures.map { $0["rate_percent"] }, [.int(10), .int(10), .int(125)])
        // Full records, exactly as GET /v1/tariff-measures/{id} writes them.
        let first = try XCTUnwrap(measures.first?["id"]?.intValue)
        XCTAssertEqual(measures.first, try api.json("/v1/tariff-measures/\(first)"))
        XCTAssertEqual(geneva["suspended_rate_percent"], .int(0), "nothing is suspended before Geneva")
        XCTAssertEqual(geneva["suspended"], .array([]))

        // After Geneva: 10 + 10 + 10 counted, the 24 points listed as suspended with the window that suspends them.
        let afterGeneva = try rate("USA", "CHN", "2025-05-15")
        XCTAssertEqual((afterGeneva["measures"]?.arrayValue ?? []).compactMap { $0["legal_basis"]?.stringValue }, [
            "IEEPA (fentanyl), EO 14195", "IEEPA (fentanyl), EO 14228",
            "IEEPA (reciprocal), EO 14257 as modified by EO 14298: 10 % not suspended",
        ])
        XCTAssertEqual(afterGeneva["suspended_rate_percent"], .int(24))
        let suspended = afterGeneva["suspended"]?.arrayValue ?? []
        XCTAssertEqual(suspended.count, 1)
        XCTAssertEqual(suspended.first?.keys, ["window", "measure"])
        XCTAssertEqual(suspended.first?["window"], .object([
            ("from", .string("2025-05-14")), ("until", .string("2025-08-12")),
            ("note", .string("Geneva: 24 points suspended for 90 days (joint statement of 12 May 2025, EO 14298).")),
        ]))
        let suspendedID = try XCTUnwrap(suspended.first?["measure"]?["id"]?.intValue)
        XCTAssertEqual(suspended.first?["measure"], try api.json("/v1/tariff-measures/\(suspendedID)"))
        XCTAssertEqual(suspended.first?["measure"]?["rate_percent"], .int(24))

        XCTAssertEqual(try rate("USA", "CHN", "2025-05-15")["total_rate_percent"], .int(30))
        XCTAssertEqual(try rate("USA", "CHN", "2025-05-14")["total_rate_percent"], .int(30), "the Geneva cut applies from 14 May")
        XCTAssertEqual(try rate("USA", "CHN", "2025-05-13")["total_rate_percent"], .int(145))
        XCTAssertEqual(try rate("USA", "CHN", "2025-11-09")["total_rate_percent"], .int(30))
        XCTAssertEqual(try rate("USA", "CHN", "2025-11-10")["total_rate_percent"], .int(20), "EO 14228 ends: until is exclusive")
        XCTAssertEqual(try rate("USA", "CHN", "2026-02-23")["total_rate_percent"], .int(20), "the last day of the IEEPA tariffs")
        XCTAssertEqual(try rate("USA", "CHN", "2026-02-24")["total_rate_percent"], .int(10), "Section 122 from 24 Feb 2026")
        XCTAssertEqual(try rate("USA", "CHN", "2026-03-01")["total_rate_percent"], .int(10))
        XCTAssertEqual(try rate("USA", "CHN", "2026-03-01")["suspended"], .array([]),
                       "a window that outlives its measure suspends nothing after the measure ends")
        XCTAssertEqual(try rate("USA", "CHN", "2025-01-01")["measures"], .array([]))
        XCTAssertEqual(try rate("USA", "CHN", "2025-01-01")["total_rate_percent"], .int(0))

        let china = try rate("CHN", "USA", "2025-05-09")
        XCTAssertEqual(china["total_rate_percent"], .int(125), "the partial 15 % on farm goods does not count")
        XCTAssertEqual((china["measures"]?.arrayValue ?? []).compactMap { $0["legal_basis"]?.stringValue },
                       ["Tariff Commission Announcement No. 6 (2025)"])
        XCTAssertEqual(try rate("CHN", "USA", "2025-05-15")["total_rate_percent"], .int(10))
        XCTAssertEqual(try rate("CHN", "USA", "2025-05-15")["suspended_rate_percent"], .int(24))
        XCTAssertEqual(try rate("CHN", "USA", "2026-03-01")["total_rate_percent"], .int(10))
        // The proposed 60 % (from 12 May) never counts.
        XCTAssertFalse((try rate("USA", "CHN", "2025-05-12")["measures"]?.arrayValue ?? []).contains { $0["status"] == .string("proposed") })
    }

    func testHistoryOfTheDemoRatesIsTheStepSeries() throws {
        api = try ViewApp()
        XCTAssertEqual(try series("imposed_by=USA&imposed_on=CHN&from=2025-01-01&to=2025-12-31"), [
            "2025-01-01 2025-02-04 0",
            "2025-02-04 2025-03-04 10",
            "2025-03-04 2025-04-05 20",
            "2025-04-05 2025-04-09 30",
            "2025-04-09 2025-04-10 104",
            "2025-04-10 2025-05-14 145",
            "2025-05-14 2025-11-10 30",
            "2025-11-10 2026-02-24 20",
        ])
        XCTAssertEqual(try series("imposed_by=USA&imposed_on=CHN&from=2026-01-01&to=2026-12-31"), [
            "2026-01-01 2026-02-24 20", "2026-02-24 2026-07-25 10", "2026-07-25 - 0",
        ], "the IEEPA tariffs end on 24 Feb 2026; Section 122 runs 150 days")
        let body = try api.json("/v1/tariff-rates/history?imposed_by=USA&imposed_on=CHN&from=2025-01-01&to=2025-12-31")
        XCTAssertEqual(body.keys, ["imposed_by", "imposed_on", "from", "to", "data"])
        XCTAssertEqual(body["data"]?.arrayValue?.first?.keys, ["from", "until", "total_rate_percent"])
        XCTAssertEqual(try series("imposed_by=CHN&imposed_on=USA&from=2025-04-01&to=2025-12-31"), [
            "2025-04-01 2025-04-10 0", "2025-04-10 2025-04-12 84", "2025-04-12 2025-05-14 125", "2025-05-14 2026-11-10 10",
        ])
        // The 24 points apply again when their last window ends (as scheduled: past the record).
        XCTAssertEqual(try series("imposed_by=CHN&imposed_on=USA&from=2026-01-01&to=2026-12-31"),
                       ["2026-01-01 2026-11-10 10", "2026-11-10 - 34"])
        // A window inside one period: that period alone, with its real end (after `to`).
        XCTAssertEqual(try series("imposed_by=USA&imposed_on=CHN&from=2025-06-01&to=2025-06-30"), ["2025-06-01 2025-11-10 30"])
        XCTAssertEqual(try series("imposed_by=USA&imposed_on=CHN&from=2025-04-09&to=2025-04-09"), ["2025-04-09 2025-04-10 104"])
        XCTAssertEqual(try series("imposed_by=USA&imposed_on=CHN&from=2025-05-13&to=2025-05-14"),
                       ["2025-05-13 2025-05-14 145", "2025-05-14 2025-11-10 30"])
    }

    func testMeasuresThatEndAsOthersStartAndMeasuresThatNeverCount() throws {
        api = try ViewApp()
        try api.measure("CAN", "MEX", "10", from: "2025-01-01", until: "2025-03-01")
        try api.measure("CAN", "MEX", "25", from: "2025-03-01")                       // starts the day the 10 % ends
        try api.measure("CAN", "MEX", "50", from: "2025-02-01", extra: #","status":"withdrawn""#)
        try api.measure("CAN", "MEX", "7", from: "2025-02-15", extra: #","coverage":"partial""#)
        try api.measure("CAN", "MEX", "33", from: "2025-01-15", extra: #","status":"proposed""#)
        try api.measure("CAN", "MEX", "2.25", from: "2025-04-01", until: "2025-05-01")
        let laterWithdrawn = try api.measure("CAN", "MEX", "0.75", from: "2025-04-01")
        try api.measure("MEX", "CAN", "12.5", from: "2025-01-01", until: "2025-06-01")
        try api.measure("MEX", "CAN", "12.5", from: "2025-06-01")                     // same rate: no step at all

        func total(_ by: String, _ on: String, _ day: String) throws -> JSONValue? { try rate(by, on, day)["total_rate_percent"] }
        XCTAssertEqual(try total("CAN", "MEX", "2025-02-28"), .int(10))
        XCTAssertEqual(try total("CAN", "MEX", "2025-03-01"), .int(25), "no gap and no double count on the changeover day")
        XCTAssertEqual(try rate("CAN", "MEX", "2025-03-01")["measures"]?.arrayValue?.count, 1)
        XCTAssertEqual(try total("CAN", "MEX", "2025-04-15"), .number("28"), "2.25 + 0.75 + 25, exactly")
        XCTAssertEqual(try total("CAN", "MEX", "2025-05-01"), .number("25.75"))
        XCTAssertEqual(try total("MEX", "CAN", "2025-05-31"), .number("12.5"))
        XCTAssertEqual(try total("MEX", "CAN", "2025-06-01"), .number("12.5"))

        XCTAssertEqual(try series("imposed_by=CAN&imposed_on=MEX&from=2024-12-01&to=2025-12-31"), [
            "2024-12-01 2025-01-01 0", "2025-01-01 2025-03-01 10", "2025-03-01 2025-04-01 25",
            "2025-04-01 2025-05-01 28", "2025-05-01 - 25.75",
        ])
        XCTAssertEqual(try series("imposed_by=MEX&imposed_on=CAN&from=2025-01-01&to=2025-12-31"), ["2025-01-01 - 12.5"],
                       "adjacent periods with equal totals are one")

        // Withdrawing a measure takes it out of both views.
        XCTAssertEqual(try api.send("PATCH", "/v1/tariff-measures/\(laterWithdrawn)", #"{"status":"withdrawn"}"#).status, 200)
        XCTAssertEqual(try total("CAN", "MEX", "2025-05-01"), .int(25))
        XCTAssertEqual(try series("imposed_by=CAN&imposed_on=MEX&from=2025-04-15&to=2025-12-31"),
                       ["2025-04-15 2025-05-01 27.25", "2025-05-01 - 25"])
    }

    func testRateParametersAreCheckedAndAsOfAndToDefaultToToday() throws {
        let clock = MovableClock("2025-05-15T09:00:00Z")
        api = try ViewApp(clock: clock.clock)
        try assertInvalid("/v1/tariff-rates?imposed_on=CHN", "imposed_by")
        try assertInvalid("/v1/tariff-rates?imposed_by=USA", "imposed_on")
        try assertInvalid("/v1/tariff-rates?imposed_by=USA&imposed_on=XXX", "imposed_on")
        try assertInvalid("/v1/tariff-rates?imposed_by=usa&imposed_on=CHN", "imposed_by")
        try assertInvalid("/v1/tariff-rates?imposed_by=USA&imposed_on=USA", "imposed_on")
        try assertInvalid("/v1/tariff-rates?imposed_by=USA&imposed_on=CHN&as_of=2025-02-30", "as_of")
        try assertInvalid("/v1/tariff-rates?imposed_by=USA&imposed_on=CHN&as_of=2025-5-9", "as_of")
        try assertInvalid("/v1/tariff-rates?imposed_by=USA&imposed_on=CHN&asof=2025-05-09", "asof")
        try assertInvalid("/v1/tariff-rates?imposed_by=USA&imposed_by=CAN&imposed_on=CHN", "imposed_by")
        try assertInvalid("/v1/tariff-rates/history?imposed_by=USA&imposed_on=CHN", "from")
        try assertInvalid("/v1/tariff-rates/history?imposed_by=USA&imposed_on=CHN&from=2025-06-01&to=2025-05-01", "from")
        try assertInvalid("/v1/tariff-rates/history?imposed_by=USA&imposed_on=CHN&from=2025-13-01", "from")
        try assertInvalid("/v1/tariff-rates/history?imposed_by=USA&imposed_on=CHN&from=2025-01-01&to=x", "to")
        try assertInvalid("/v1/tariff-rates/history?imposed_by=USA&imposed_on=CHN&from=2025-01-01&limit=5", "limit")

        let today = try api.json("/v1/tariff-rates?imposed_by=USA&imposed_on=CHN")
        XCTAssertEqual(today["as_of"], .string("2025-05-15"))
        XCTAssertEqual(today["total_rate_percent"], .int(30))
        let history = try api.json("/v1/tariff-rates/history?imposed_by=USA&imposed_on=CHN&from=2025-05-01")
        XCTAssertEqual(history["to"], .string("2025-05-15"))
        XCTAssertEqual(history.column("total_rate_percent"), [.int(145), .int(30)])
    }

    // MARK: status

    func testStatusDocumentAndItsCheapConditionalPoll() throws {
        let clock = MovableClock("2025-05-15T09:00:00Z")
        api = try ViewApp(clock: clock.clock)
        let lastSeq = try api.scalar("SELECT MAX(seq) FROM change_log")
        let response = try api.get("/v1/status")
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.headers["Cache-Control"], "private, no-cache")
        let tag = try XCTUnwrap(response.headers["ETag"])
        XCTAssertEqual(tag, "\"status-\(lastSeq)-2025-05-15\"")
        let status = try response.json()
        XCTAssertEqual(status.keys, ["generated_at", "last_change_seq", "negotiations"])
        XCTAssertEqual(status["generated_at"], .string("2025-05-15T09:00:00.000Z"))
        XCTAssertEqual(status["last_change_seq"], .int(lastSeq))
        let negotiation = try XCTUnwrap(status["negotiations"]?.arrayValue?.first)
        XCTAssertEqual(status["negotiations"]?.arrayValue?.count, 1)
        XCTAssertEqual(negotiation.keys, ["id", "slug", "title", "status", "record_complete_through", "parties", "last_round", "next_round",
                                          "issue_counts", "tariff_rates", "export_controls_in_effect"])
        XCTAssertEqual(negotiation["record_complete_through"], .string("2026-05-16"))
        XCTAssertEqual(negotiation["slug"], .string("us-china-2025"))
        XCTAssertEqual(negotiation["title"], .string("US–China trade talks 2025"))
        XCTAssertEqual(negotiation["status"], .string("active"))
        XCTAssertEqual(negotiation["parties"], .array([.string("USA"), .string("CHN")]))
        XCTAssertEqual(negotiation["last_round"], .object([
            ("id", .int(1)), ("title", .string("Geneva talks")), ("starts_on", .string("2025-05-10")),
            ("ends_on", .string("2025-05-11")), ("status", .string("concluded")), ("beyond_record", .bool(false)),
        ]))
        XCTAssertEqual(negotiation["next_round"]?["title"], .string("London talks"))
        XCTAssertEqual(negotiation["next_round"]?.keys, ["id", "title", "starts_on", "ends_on", "status", "beyond_record"])
        XCTAssertEqual(negotiation["next_round"]?["beyond_record"], .bool(false))
        // The demo issues carry their notes through November: two tentative agreements and one agreement.
        XCTAssertEqual(negotiation["issue_counts"], .object([
            ("open", .int(0)), ("in_discussion", .int(0)), ("tentative_agreement", .int(2)),
            ("agreed", .int(1)), ("stalled", .int(0)), ("dropped", .int(0)),
        ]))
        XCTAssertEqual(negotiation["tariff_rates"], .array([
            .object([("imposed_by", .string("USA")), ("imposed_on", .string("CHN")), ("total_rate_percent", .int(30)),
                     ("beyond_record", .bool(false))]),
            .object([("imposed_by", .string("CHN")), ("imposed_on", .string("USA")), ("total_rate_percent", .int(10)),
                     ("beyond_record", .bool(false))]),
        ]))
        // 15 May 2025: China's No. 46 (ban to the US) and No. 18 (every destination); the Affiliates rule is not yet out.
        XCTAssertEqual(negotiation["export_controls_in_effect"], .array([
            .object([("imposed_by", .string("USA")), ("count", .int(0)), ("beyond_record", .bool(false))]),
            .object([("imposed_by", .string("CHN")), ("count", .int(2)), ("beyond_record", .bool(false))]),
        ]))

        // Nothing changed: 304 with the same tag, also for a weak or listed tag; HEAD too.
        for field in [tag, "W/\(tag)", "\"x\", \(tag)", "*"] {
            let poll = try api.get("/v1/status", headers: [("If-None-Match", field)])
            XCTAssertEqual(poll.status, 304, field)
            XCTAssertTrue(poll.body.isEmpty)
            XCTAssertEqual(poll.headers["ETag"], tag)
            XCTAssertEqual(poll.headers["Cache-Control"], "private, no-cache")
        }
        XCTAssertEqual(try api.client.request("HEAD", "/v1/status", headers: [("If-None-Match", tag)]).status, 304)
        Problems.assertProblem(try api.get("/v1/status?verbose=1"), status: 400, code: "invalid_parameter")

        // A write: 200 with a new tag and the new seq.
        XCTAssertEqual(try api.send("PATCH", "/v1/issues/1", #"{"status":"stalled"}"#).status, 200)
        let changed = try api.get("/v1/status", headers: [("If-None-Match", tag)])
        XCTAssertEqual(changed.status, 200)
        let newTag = try XCTUnwrap(changed.headers["ETag"])
        XCTAssertEqual(newTag, "\"status-\(lastSeq + 1)-2025-05-15\"")
        XCTAssertEqual(try changed.json()["last_change_seq"], .int(lastSeq + 1))
        XCTAssertEqual(try changed.json()["negotiations"]?.arrayValue?.first?["issue_counts"]?["stalled"], .int(1))
        XCTAssertEqual(try api.get("/v1/status", headers: [("If-None-Match", newTag)]).status, 304)

        // A new day without a write: "current" moves, so does the tag.
        clock.advance(days: 30)                                   // 2025-06-14: London (9–10 June) has happened
        let nextDay = try api.get("/v1/status", headers: [("If-None-Match", newTag)])
        XCTAssertEqual(nextDay.status, 200)
        XCTAssertEqual(nextDay.headers["ETag"], "\"status-\(lastSeq + 1)-2025-06-14\"")
        let june = try XCTUnwrap(try nextDay.json()["negotiations"]?.arrayValue?.first)
        XCTAssertEqual(june["last_round"]?["title"], .string("London talks"))
        XCTAssertEqual(june["next_round"]?["title"], .string("Stockholm talks"))
        clock.advance(days: 200)                                  // 2025-12-31: the Beijing summit is next
        let december = try XCTUnwrap(try api.json("/v1/status")["negotiations"]?.arrayValue?.first)
        XCTAssertEqual(december["next_round"], .object([
            ("id", .int(7)), ("title", .string("Beijing summit")), ("starts_on", .string("2026-05-14")),
            ("ends_on", .string("2026-05-16")), ("status", .string("concluded")), ("beyond_record", .bool(false)),
        ]))
        XCTAssertEqual(december["last_round"]?["title"], .string("Busan leaders' meeting"))
        XCTAssertEqual(december["tariff_rates"]?.arrayValue?.first?["total_rate_percent"], .int(20))
        XCTAssertEqual(december["export_controls_in_effect"], .array([
            .object([("imposed_by", .string("USA")), ("count", .int(0)), ("beyond_record", .bool(false))]),
            .object([("imposed_by", .string("CHN")), ("count", .int(1)), ("beyond_record", .bool(false))]),
        ]), "after Busan only No. 18 applies; the rest is suspended")
    }

    // MARK: timeline

    private func timeline(_ query: String = "") throws -> [JSONValue] {
        try api.json("/v1/negotiations/1/timeline?limit=500\(query)")["data"]?.arrayValue ?? []
    }

    func testTimelineIsOrderedByDateThenKindThenId() throws {
        api = try ViewApp()
        let items = try timeline()
        // 7 rounds × 2, 11 issue notes, 24 enacted measures taking effect and 12 ending, 2 tariff suspensions (the
        // extensions are adjacent windows: one suspension each) and 1 resumption (the US 24 points end with the IEEPA
        // tariffs, before their window), 6 export controls taking effect, 5 suspended and 5 resumed, 8 statements.
        XCTAssertEqual(items.count, 88)
        var counts: [String: Int] = [:]
        for item in items { counts[item["kind"]?.stringValue ?? "?", default: 0] += 1 }
        XCTAssertEqual(counts, [
            "round_started": 7, "round_ended": 7, "issue_update": 11, "tariff_effective": 24, "tariff_ended": 12,
            "tariff_suspended": 2, "tariff_resumed": 1, "export_control_effective": 6, "export_control_suspended": 5,
            "export_control_resumed": 5, "statement": 8,
        ])
        XCTAssertEqual(items.first, .object([
            ("date", .string("2018-07-06")), ("kind", .string("tariff_effective")),
            ("title", .string("USA tariff of 25 % on some goods from CHN (Section 301 of the Trade Act of 1974 (China: technology transfer, IP, innovation), List 1) takes effect")),
            ("ref", .object([("type", .string("tariff-measures")), ("id", .int(9))])),
        ]))
        let kinds = Timeline.kinds
        let keys = items.map { ($0["date"]?.stringValue ?? "", kinds.firstIndex(of: $0["kind"]?.stringValue ?? "") ?? -1) }
        for (a, b) in zip(keys, keys.dropFirst()) { XCTAssertTrue(a.0 < b.0 || (a.0 == b.0 && a.1 <= b.1), "\(a) before \(b)") }
        XCTAssertFalse(keys.contains { $0.1 < 0 })
        XCTAssertFalse(items.contains { $0["title"]?.stringValue?.contains("60 %") == true }, "a proposed measure never takes effect")

        func on(_ day: String) -> [String] {
            items.filter { $0["date"] == .string(day) }.map { "\($0["kind"]?.stringValue ?? "") \($0["ref"]?["type"]?.stringValue ?? "") \($0["ref"]?["id"]?.intValue ?? 0)" }
        }
        // Busan is a one-day round: it starts before it ends; then the two notes of that day, by note id.
        XCTAssertEqual(on("2025-10-30"), ["round_started rounds 6", "round_ended rounds 6", "issue_update issues 2", "issue_update issues 3"])
        XCTAssertEqual(on("2025-05-14"), ["tariff_effective tariff-measures 6", "tariff_effective tariff-measures 7",
                                          "tariff_effective tariff-measures 19", "tariff_effective tariff-measures 20",
                                          "tariff_ended tariff-measures 5", "tariff_ended tariff-measures 18",
                                          "tariff_suspended tariff-measures 7", "tariff_suspended tariff-measures 20"])
        XCTAssertEqual(on("2025-05-12"), ["issue_update issues 1"])
        let geneva = try XCTUnwrap(items.first { $0["kind"] == .string("round_started") })
        XCTAssertEqual(geneva["title"], .string("Start of Geneva talks (Geneva)"))
        let note = try XCTUnwrap(items.first { $0["kind"] == .string("issue_update") && $0["date"] == .string("2025-04-04") })
        let title = try XCTUnwrap(note["title"]?.stringValue)
        XCTAssertTrue(title.hasPrefix("Export restrictions on rare earths and magnets: MOFCOM/GAC Announcement No. 18"), title)
        XCTAssertTrue(title.hasSuffix("…") && title.count < 200, "a long note is cut: \(title)")
        XCTAssertEqual(items.last, .object([
            ("date", .string("2026-11-27")), ("kind", .string("export_control_resumed")),
            ("title", .string("CHN export control (ban) on gallium, germanium, antimony, superhard materials (MOFCOM Announcement No. 46 (2024), clause 2) applies again")),
            ("ref", .object([("type", .string("export-controls")), ("id", .int(1))])),
        ]))
        XCTAssertEqual(items.filter { $0["kind"] == .string("statement") }.first?["title"]?.stringValue?.hasPrefix("Donald Trump: "), true)

        Problems.assertProblem(try api.get("/v1/negotiations/99/timeline"), status: 404, code: "not_found")
    }

    func testTimelineFiltersAndPages() throws {
        api = try ViewApp()
        let all = try timeline()
        let statements = try timeline("&kind=statement")
        XCTAssertEqual(statements.count, 8)
        XCTAssertEqual(statements, all.filter { $0["kind"] == .string("statement") })
        let summer = try timeline("&kind=round_started&kind=round_ended&from=2025-06-01&to=2025-09-15")
        XCTAssertEqual(summer.map { $0["title"]?.stringValue ?? "" }, [
            "Start of London talks (London)", "End of London talks (London)",
            "Start of Stockholm talks (Stockholm)", "End of Stockholm talks (Stockholm)",
            "Start of Madrid talks (Madrid)", "End of Madrid talks (Madrid)",
        ])
        XCTAssertEqual(try timeline("&kind=round_started,round_ended&from=2025-06-01&to=2025-09-15"), summer)
        XCTAssertEqual(try timeline("&from=2025-10-30&to=2025-10-30").count, 4, "from and to are inclusive")
        for bad in ["kind=meeting", "from=2025-02-30", "to=someday", "from=2025-06-01&to=2025-05-01", "sort=date", "limit=0"] {
            Problems.assertProblem(try api.get("/v1/negotiations/1/timeline?\(bad)"), status: 400, code: "invalid_parameter")
        }

        // Pages of 7 with the same filter give the same items, and every page but the last links on.
        var paged: [JSONValue] = []
        var path = "/v1/negotiations/1/timeline?limit=7&from=2025-04-01"
        var pages = 0
        while true {
            let response = try api.get(path)
            XCTAssertEqual(response.status, 200, response.text)
            let body = try response.json()
            paged += body["data"]?.arrayValue ?? []
            pages += 1
            guard let cursor = body["next_cursor"]?.stringValue else {
                XCTAssertNil(response.headers["Link"])
                break
            }
            XCTAssertEqual(response.headers["Link"], "</v1/negotiations/1/timeline?cursor=\(cursor)&limit=7>; rel=\"next\"")
            path = "/v1/negotiations/1/timeline?cursor=\(cursor)&limit=7"
            XCTAssertLessThan(pages, 20)
        }
        let expected = try timeline("&from=2025-04-01")
        XCTAssertEqual(paged, expected)
        XCTAssertEqual(pages, (expected.count + 6) / 7)

        let first = try api.json("/v1/negotiations/1/timeline?limit=5&kind=statement")
        let cursor = try XCTUnwrap(first["next_cursor"]?.stringValue)
        Problems.assertProblem(try api.get("/v1/negotiations/1/timeline?cursor=\(cursor)&kind=issue_update"),
                               status: 400, code: "invalid_parameter")
        let otherID = try api.create("/v1/negotiations", #"{"slug":"other","title":"Other talks","parties":["USA","GBR"]}"#)
        Problems.assertProblem(try api.get("/v1/negotiations/\(otherID)/timeline?cursor=\(cursor)"), status: 400, code: "invalid_parameter")
        XCTAssertEqual(try api.json("/v1/negotiations/\(otherID)/timeline")["data"], .array([]))
        XCTAssertEqual(try api.json("/v1/negotiations/1/timeline?cursor=\(cursor)")["data"]?.arrayValue, Array(statements.dropFirst(5)))
    }

    // MARK: record history

    func testHistoryAfterPatchAndAfterDelete() throws {
        api = try ViewApp()
        let id = try api.create("/v1/sources", #"{"title":"Joint statement","publisher":"White House"}"#)
        XCTAssertEqual(try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"Joint Statement on Economic and Trade Meeting"}"#).status, 200)
        let patched = try api.json("/v1/sources/\(id)/history")
        let entries = patched["data"]?.arrayValue ?? []
        XCTAssertEqual(entries.map { $0["action"] }, [.string("created"), .string("updated")])
        XCTAssertEqual(patched["next_cursor"], .null)
        XCTAssertEqual(entries.first?.keys, ["seq", "at", "action", "actor", "request_id", "changes"])
        XCTAssertEqual(entries.first?["actor"], .string("writer"))
        XCTAssertTrue(Fixtures.isTimestamp(entries.first?["at"]?.stringValue))
        XCTAssertNotNil(entries.first?["request_id"]?.stringValue)
        XCTAssertEqual(entries.first?["changes"]?["title"], .change(.null, .string("Joint statement")))
        XCTAssertEqual(entries.last?["changes"], .object([
            ("title", .change(.string("Joint statement"), .string("Joint Statement on Economic and Trade Meeting"))),
        ]))

        let deleted = try api.send("DELETE", "/v1/sources/\(id)")
        XCTAssertEqual(deleted.status, 204)
        Problems.assertProblem(try api.get("/v1/sources/\(id)"), status: 404, code: "not_found")
        let after = try api.json("/v1/sources/\(id)/history")["data"]?.arrayValue ?? []
        XCTAssertEqual(after.map { $0["action"] }, [.string("created"), .string("updated"), .string("deleted")])
        XCTAssertEqual(after.last?["changes"]?["title"], .change(.string("Joint Statement on Economic and Trade Meeting"), .null))
        XCTAssertEqual(after.last?["changes"]?["publisher"], .change(.string("White House"), .null))
        let seqs = after.compactMap { $0["seq"]?.intValue }
        XCTAssertEqual(seqs, seqs.sorted())
        XCTAssertEqual(Set(seqs).count, 3)

        // Paged like every list.
        let page = try api.json("/v1/sources/\(id)/history?limit=2")
        XCTAssertEqual(page["data"]?.arrayValue?.count, 2)
        let cursor = try XCTUnwrap(page["next_cursor"]?.stringValue)
        XCTAssertEqual(try api.json("/v1/sources/\(id)/history?cursor=\(cursor)")["data"]?.arrayValue, [after[2]])
        Problems.assertProblem(try api.get("/v1/sources/1/history?cursor=\(cursor)"), status: 400, code: "invalid_parameter")
        Problems.assertProblem(try api.get("/v1/sources/\(id)/history?since=1"), status: 400, code: "invalid_parameter")

        // Every resource has one; the demo loader's writes are there too; no log row → 404.
        for resource in ["negotiations", "rounds", "participants", "issues", "tariff-measures", "export-controls", "statements", "sources"] {
            let history = try api.json("/v1/\(resource)/1/history")
            XCTAssertEqual(history.column("action").first, .string("created"), resource)
            XCTAssertEqual(history.column("actor").first, .string("demo"), resource)
            Problems.assertProblem(try api.get("/v1/\(resource)/9999/history"), status: 404, code: "not_found")
        }
        // The issue moved by its notes: created, then one update per status change.
        XCTAssertEqual(try api.json("/v1/issues/1/history").column("action"),
                       [.string("created"), .string("updated"), .string("updated"), .string("updated")])
    }
}
