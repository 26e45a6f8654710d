import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// The demo data as the public record tells it (../shared/demo-facts.md "Added"): the Geneva arrangement as
/// suspension windows, the 2026 steps after the Supreme Court, China's earlier retaliation answering the fentanyl
/// tariffs, and the six export controls — checked through the API on the days the facts name.
final class DemoRecordTests: XCTestCase {
    var view: ViewApp!

    override func tearDown() { view?.stop() }

    private func start(_ clock: MovableClock? = nil) throws {
        view = try ViewApp(clock: clock?.clock ?? .system)
    }

    private func total(_ by: String, _ on: String, _ day: String, line: UInt = #line) throws -> JSONValue? {
        try view.rate(by, on, day, line: line)["total_rate_percent"]
    }

    private func bases(_ list: JSONValue?) -> [String] {
        (list?.arrayValue ?? []).map { $0["legal_basis"]?.stringValue ?? "?" }
    }

    private func measureID(_ basis: String, line: UInt = #line) throws -> Int {
        let all = try view.json("/v1/tariff-measures?limit=500")["data"]?.arrayValue ?? []
        return try XCTUnwrap(all.first { $0["legal_basis"]?.stringValue == basis }?["id"]?.intValue, basis, line: line)
    }

    private func controlID(_ basisPrefix: String, line: UInt = #line) throws -> Int {
        let all = try view.json("/v1/export-controls?limit=500")["data"]?.arrayValue ?? []
        return try XCTUnwrap(all.first { $0["legal_basis"]?.stringValue?.hasPrefix(basisPrefix) == true }?["id"]?.intValue, basisPrefix, line: line)
    }

    static let fentanyl14195 = "IEEPA (fentanyl), EO 14195"
    static let fentanyl14228 = "IEEPA (fentanyl), EO 14228"
    static let baseline = "IEEPA (reciprocal), EO 14257 baseline"
    static let usTen = "IEEPA (reciprocal), EO 14257 as modified by EO 14298: 10 % not suspended"
    static let usTwentyFour = "IEEPA (reciprocal), EO 14257 as modified by EO 14298: 24 points suspended"
    static let section122 = "Section 122 of the Trade Act of 1974, temporary import surcharge (HTS 9903.03.01)"
    static let cnTen = "Tariff Commission, Announcement No. 4 (2025) after Geneva: 10 % retained"
    static let cnTwentyFour = "Tariff Commission, Announcement No. 4 (2025) after Geneva: 24 points suspended"

    // MARK: rates

    func testTheAllGoodsTotalsOnTheDaysTheRecordNames() throws {
        try start()
        let checks: [(String, String, String, Int)] = [
            ("USA", "CHN", "2025-05-09", 145), ("USA", "CHN", "2025-05-15", 30), ("USA", "CHN", "2025-11-10", 20),
            ("USA", "CHN", "2026-02-23", 20), ("USA", "CHN", "2026-03-01", 10),
            ("CHN", "USA", "2025-05-09", 125), ("CHN", "USA", "2025-05-15", 10), ("CHN", "USA", "2026-03-01", 10),
        ]
        for (by, on, day, expected) in checks {
            XCTAssertEqual(try total(by, on, day), .int(expected), "\(by)→\(on) on \(day)")
        }
        XCTAssertEqual(bases(try view.rate("USA", "CHN", "2026-02-23")["measures"]), [Self.fentanyl14195, Self.usTen])
        XCTAssertEqual(bases(try view.rate("USA", "CHN", "2026-03-01")["measures"]), [Self.section122], "Section 122 only")
        XCTAssertEqual(try view.rate("USA", "CHN", "2026-03-01")["suspended"], .array([]), "the 24 points ended with IEEPA")
        XCTAssertEqual(bases(try view.rate("CHN", "USA", "2026-03-01")["measures"]), [Self.cnTen], "no source says China lifted its 10 %")
        XCTAssertEqual(try total("USA", "CHN", "2026-07-25"), .int(0), "Section 122 ran 150 days, through 2026-07-24")
        XCTAssertEqual(try total("USA", "CHN", "2026-07-24"), .int(10))
    }

    func testTheGenevaSuspensionAsTheRateEndpointListsIt() throws {
        try start()
        let usWindows: [(String, JSONValue)] = [
            ("2025-05-15", Measures.window("2025-05-14", "2025-08-12", "Geneva: 24 points suspended for 90 days (joint statement of 12 May 2025, EO 14298).")),
            ("2025-09-01", Measures.window("2025-08-12", "2025-11-10", "Extended to 10 Nov 2025 by the order of 11 Aug 2025.")),
            ("2025-11-15", Measures.window("2025-11-10", "2026-11-10",
                                           "Extended to 10 Nov 2026 by the orders of 4 Nov 2025 (reciprocal rate held at 10 %); runs past the measure's end on 2026-02-24.")),
        ]
        for (day, window) in usWindows {
            let body = try view.rate("USA", "CHN", day)
            let suspended = body["suspended"]?.arrayValue ?? []
            XCTAssertEqual(suspended.map { $0["window"] ?? .null }, [window], day)
            XCTAssertEqual(bases(.array(suspended.map { $0["measure"] ?? .null })), [Self.usTwentyFour], day)
            XCTAssertEqual(suspended.first?["measure"]?["rate_percent"], .int(24), day)
            XCTAssertEqual(body["suspended_rate_percent"], .int(24), day)
        }
        // 15 November 2025: 20 % applied, 24 points suspended until 10 November 2026, each way.
        let us = try view.rate("USA", "CHN", "2025-11-15")
        XCTAssertEqual(us["total_rate_percent"], .int(20))
        XCTAssertEqual(bases(us["measures"]), [Self.fentanyl14195, Self.usTen])
        let china = try view.rate("CHN", "USA", "2025-11-15")
        XCTAssertEqual(china["total_rate_percent"], .int(10))
        XCTAssertEqual(bases(china["measures"]), [Self.cnTen])
        XCTAssertEqual(china["suspended_rate_percent"], .int(24))
        XCTAssertEqual(china["suspended"]?.arrayValue?.map { $0["window"] ?? .null },
                       [Measures.window("2025-11-10", "2026-11-10", "Suspended for another year from 10 Nov 2025, to 10 Nov 2026.")])
        XCTAssertEqual(bases(.array(china["suspended"]?.arrayValue?.map { $0["measure"] ?? .null } ?? [])), [Self.cnTwentyFour])
        // Before Geneva nothing is suspended.
        XCTAssertEqual(try view.rate("USA", "CHN", "2025-05-13")["suspended"], .array([]))
        XCTAssertEqual(try view.rate("CHN", "USA", "2025-05-13")["suspended_rate_percent"], .int(0))
    }

    func testTheGenevaMeasuresCarryTheirExtensionsAsAdjacentWindows() throws {
        try start()
        let us = try view.json("/v1/tariff-measures/\(try measureID(Self.usTwentyFour))")
        XCTAssertEqual(us["effective_from"], .string("2025-05-14"))
        XCTAssertEqual(us["effective_until"], .string("2026-02-24"))
        XCTAssertEqual(us["suspensions"]?.arrayValue?.map { "\($0["from"]?.stringValue ?? "?") \($0["until"]?.stringValue ?? "-")" },
                       ["2025-05-14 2025-08-12", "2025-08-12 2025-11-10", "2025-11-10 2026-11-10"], "the last window outlives the measure")
        let china = try view.json("/v1/tariff-measures/\(try measureID(Self.cnTwentyFour))")
        XCTAssertEqual(china["effective_until"], .null)
        XCTAssertEqual(china["suspensions"]?.arrayValue?.map { "\($0["from"]?.stringValue ?? "?") \($0["until"]?.stringValue ?? "-")" },
                       ["2025-05-14 2025-08-12", "2025-08-12 2025-11-10", "2025-11-10 2026-11-10"])
        // Every IEEPA measure still in force in February 2026 ends on 24 Feb, the day CBP stopped collecting them.
        let ieepa = (try view.json("/v1/tariff-measures?limit=500")["data"]?.arrayValue ?? [])
            .filter { $0["legal_basis"]?.stringValue?.hasPrefix("IEEPA") == true }
        XCTAssertEqual(ieepa.map { "\($0["legal_basis"]?.stringValue ?? "?") \($0["effective_from"]?.stringValue ?? "?") \($0["effective_until"]?.stringValue ?? "-")" }, [
            "\(Self.fentanyl14195) 2025-02-04 2026-02-24",
            "\(Self.fentanyl14228) 2025-03-04 2025-11-10",
            "\(Self.baseline) 2025-04-05 2025-04-09",
            "IEEPA (reciprocal), EO 14257 as amended by EO 14259 2025-04-09 2025-04-10",
            "IEEPA (reciprocal), EO 14266 2025-04-10 2025-05-14",
            "\(Self.usTen) 2025-05-14 2026-02-24",
            "\(Self.usTwentyFour) 2025-05-14 2026-02-24",
        ])
        let surcharge = try view.json("/v1/tariff-measures/\(try measureID(Self.section122))")
        XCTAssertEqual(surcharge["rate_percent"], .int(10))
        XCTAssertEqual(surcharge["coverage"], .string("all_goods"))
        XCTAssertEqual(surcharge["effective_from"], .string("2026-02-24"))
        XCTAssertEqual(surcharge["effective_until"], .string("2026-07-25"))
    }

    func testPartialMeasuresCarryHSCodesAndChinasRetaliationAnswersTheFentanylTariffs() throws {
        try start()
        let magnets = try view.json("/v1/tariff-measures?hs_code=8505")["data"]?.arrayValue ?? []
        XCTAssertEqual(magnets.map { $0["hs_codes"] ?? .null }, [.array([.string("850511")])], "Section 301 on permanent magnets")
        XCTAssertEqual(magnets.first?["effective_from"], .string("2026-01-01"))
        XCTAssertEqual(magnets.first?["coverage"], .string("partial"))
        XCTAssertEqual(try view.json("/v1/tariff-measures?hs_code=85")["data"]?.arrayValue?.map { $0["hs_codes"] ?? .null },
                       [.array([.string("8541"), .string("8542")]), .array([.string("850511")])], "semiconductors and magnets")
        XCTAssertEqual(try view.json("/v1/tariff-measures?hs_code=1201")["data"]?.arrayValue?.map { $0["legal_basis"] ?? .null },
                       [.string("Tariff Commission Announcement No. 2 (2025)")], "soybeans")
        XCTAssertEqual(bases(try view.json("/v1/export-controls?hs_code=8505")["data"]), ["MOFCOM/GAC Announcement No. 18 (2025)"])

        func responses(_ basis: String) throws -> [String] {
            (try view.json("/v1/tariff-measures/\(try measureID(basis))/responses")["data"]?.arrayValue ?? []).map {
                "\($0["type"]?.stringValue ?? "?") \($0["imposed_by"]?.stringValue ?? "?") \($0["rate_percent"].map { String(decoding: $0.encoded, as: UTF8.self) } ?? "-") \($0["effective_from"]?.stringValue ?? "?")"
            }
        }
        XCTAssertEqual(try responses(Self.fentanyl14195), ["tariff-measures CHN 15 2025-02-10", "tariff-measures CHN 10 2025-02-10"],
                       "coal and LNG; crude oil, farm machinery, cars")
        XCTAssertEqual(try responses(Self.fentanyl14228), ["tariff-measures CHN 15 2025-03-10", "tariff-measures CHN 10 2025-03-10"],
                       "Announcement No. 2 (2025)")
        XCTAssertEqual(try responses(Self.baseline), ["export-controls CHN - 2025-04-04"], "No. 18 answers the reciprocal tariff of April 2025")
        XCTAssertEqual(try responses(Self.section122), [])
        let deleted = try view.send("DELETE", "/v1/tariff-measures/\(try measureID(Self.fentanyl14195))")
        XCTAssertEqual(deleted.status, 409, "China's retaliation still names it: \(deleted.text)")
    }

    // MARK: export controls

    func testTheSixExportControlsOfTheRecord() throws {
        try start()
        let all = try view.json("/v1/export-controls?limit=500")
        XCTAssertEqual(all["next_cursor"], .null)
        let rows = (all["data"]?.arrayValue ?? []).map { control -> String in
            let windows = (control["suspensions"]?.arrayValue ?? []).map { "\($0["from"]?.stringValue ?? "?")–\($0["until"]?.stringValue ?? "-")" }
            let targets = (control["applies_to"]?.arrayValue ?? []).compactMap(\.stringValue)
            return "\(control["imposed_by"]?.stringValue ?? "?") \(control["control"]?.stringValue ?? "?") \(control["effective_from"]?.stringValue ?? "?") "
                + "\(control["effective_until"]?.stringValue ?? "-") [\(targets.joined(separator: ","))] \(windows) \(control["legal_basis"]?.stringValue ?? "?")"
        }
        XCTAssertEqual(rows, [
            #"CHN ban 2024-12-03 - [USA] ["2025-11-09–2026-11-27"] MOFCOM Announcement No. 46 (2024), clause 2"#,
            #"CHN licence_required 2025-04-04 - [] [] MOFCOM/GAC Announcement No. 18 (2025)"#,
            #"USA licence_required 2025-09-29 - [] ["2025-11-10–2026-11-10"] BIS interim final rule, 2025-09-29 (Export Administration Regulations; FR Doc. 2025-19001)"#,
            #"CHN licence_required 2025-10-09 - [] ["2025-11-10–2026-11-10"] MOFCOM Announcement No. 62 (2025)"#,
            #"CHN licence_required 2025-11-08 - [] ["2025-11-10–2026-11-10"] MOFCOM Announcements No. 55–58 (2025)"#,
            #"CHN licence_required 2025-12-01 - [] ["2025-11-10–2026-11-10"] MOFCOM Announcement No. 61 (2025)"#,
        ])
        let rareEarths = try XCTUnwrap((try view.json("/v1/issues?category=rare_earths")["data"]?.arrayValue ?? []).first?["id"])
        for control in all["data"]?.arrayValue ?? [] {
            XCTAssertEqual(control["negotiation_id"], .int(1))
            XCTAssertEqual(control["issue_id"], rareEarths, "linked to the rare-earth issue")
            XCTAssertNotEqual(control["source_id"] ?? .null, .null, "every control names its source")
            XCTAssertEqual(control["status"], .string("enacted"))
        }
        let no18 = try view.json("/v1/export-controls/\(try controlID("MOFCOM/GAC Announcement No. 18"))")
        let items = (no18["items"]?.arrayValue ?? []).compactMap(\.stringValue)
        XCTAssertEqual(Array(items.prefix(7)), ["samarium", "gadolinium", "terbium", "dysprosium", "lutetium", "scandium", "yttrium"])
        XCTAssertEqual(no18["responds_to"], .array([Measures.reference("tariff-measures", try measureID(Self.baseline))]))
        let affiliates = try view.json("/v1/export-controls/\(try controlID("BIS interim final rule"))")
        XCTAssertTrue(affiliates["notes"]?.stringValue?.contains("29 Sep, 30 Sep or 2 Oct") == true, "the disagreement on the date is noted")
    }

    func testChinasControlsInEffectOnTheDaysTheRecordNames() throws {
        let clock = MovableClock("2025-06-01T09:00:00Z")
        try start(clock)
        let no46 = "MOFCOM Announcement No. 46 (2024), clause 2", no18 = "MOFCOM/GAC Announcement No. 18 (2025)",
            no62 = "MOFCOM Announcement No. 62 (2025)"
        let days: [(String, [String], Int)] = [
            ("2025-06-01", [no46, no18], 0),
            ("2025-10-20", [no46, no18, no62], 141),              // No. 61 is not yet effective
            ("2025-11-15", [no18], 26),                           // the rest suspended
        ]
        for (day, expected, advance) in days {
            clock.advance(days: advance)
            XCTAssertEqual(bases(try view.json("/v1/export-controls?in_effect_on=\(day)&imposed_by=CHN")["data"]), expected, day)
            let counts = try view.statusEntry(1)["export_controls_in_effect"]
            XCTAssertEqual(counts?.arrayValue?.last, .object([("imposed_by", .string("CHN")), ("count", .int(expected.count)), ("beyond_record", .bool(false))]),
                           "the status document on \(day)")
            XCTAssertEqual(try view.json("/v1/status")["generated_at"]?.stringValue?.prefix(10).description, day)
        }
        XCTAssertEqual(try view.statusEntry(1)["export_controls_in_effect"]?.arrayValue?.first,
                       .object([("imposed_by", .string("USA")), ("count", .int(0)), ("beyond_record", .bool(false))]),
                       "15 Nov 2025: the Affiliates rule is suspended")
        XCTAssertEqual(try view.json("/v1/export-controls/\(try controlID("MOFCOM Announcement No. 61"))")["in_effect_today"], .bool(false))
        XCTAssertEqual(try view.json("/v1/export-controls/\(try controlID("MOFCOM/GAC Announcement No. 18"))")["in_effect_today"], .bool(true))
    }

    func testWhichExportControlsOnRareEarthsAppliedOnTheFirstOfJune2025() throws {
        try start()
        let answer = try view.json("/v1/export-controls?in_effect_on=2025-06-01&item=dysprosium")
        XCTAssertEqual(bases(answer["data"]), ["MOFCOM/GAC Announcement No. 18 (2025)"], "one request, one answer")
        XCTAssertEqual(answer["next_cursor"], .null)
        XCTAssertEqual(bases(try view.json("/v1/export-controls?in_effect_on=2025-06-01&item=Gallium")["data"]), ["MOFCOM Announcement No. 46 (2024), clause 2"])
        XCTAssertEqual(bases(try view.json("/v1/export-controls?in_effect_on=2025-11-15&item=gallium")["data"]), [], "suspended from 9 Nov 2025")
        XCTAssertEqual(bases(try view.json("/v1/export-controls?in_effect_on=2025-04-03&item=dysprosium")["data"]), [], "the day before No. 18")
        XCTAssertEqual(bases(try view.json("/v1/export-controls?in_effect_on=2025-06-01&imposed_by=USA")["data"]), [])
    }

    // MARK: timeline

    func testTheTimelineShowsTheNewKinds() throws {
        try start()
        let items = try view.json("/v1/negotiations/1/timeline?limit=500")["data"]?.arrayValue ?? []
        XCTAssertEqual(Set(items.compactMap { $0["kind"]?.stringValue }), Set(Timeline.kinds.filter { $0 != "export_control_ended" }),
                       "every kind but export_control_ended (no demo control has an end)")
        func events(_ kind: String) -> [String] {
            items.filter { $0["kind"] == .string(kind) }.map { "\($0["date"]?.stringValue ?? "?") \($0["ref"]?["id"]?.intValue ?? -1)" }
        }
        let us24 = try measureID(Self.usTwentyFour), cn24 = try measureID(Self.cnTwentyFour)
        XCTAssertEqual(events("tariff_suspended"), ["2025-05-14 \(min(us24, cn24))", "2025-05-14 \(max(us24, cn24))"],
                       "Geneva; the two extensions are adjacent windows, no new suspension")
        XCTAssertEqual(events("tariff_resumed"), ["2026-11-10 \(cn24)"], "the US 24 points end with the IEEPA tariffs before their window does")
        let no46 = try controlID("MOFCOM Announcement No. 46"), affiliates = try controlID("BIS interim final rule"),
            no62 = try controlID("MOFCOM Announcement No. 62"), no55 = try controlID("MOFCOM Announcements No. 55"),
            no61 = try controlID("MOFCOM Announcement No. 61"), no18 = try controlID("MOFCOM/GAC Announcement No. 18")
        XCTAssertEqual(events("export_control_effective"), [
            "2024-12-03 \(no46)", "2025-04-04 \(no18)", "2025-09-29 \(affiliates)", "2025-10-09 \(no62)", "2025-11-08 \(no55)", "2025-12-01 \(no61)",
        ])
        XCTAssertEqual(events("export_control_suspended"), [
            "2025-11-09 \(no46)", "2025-11-10 \(affiliates)", "2025-11-10 \(no62)", "2025-11-10 \(no55)", "2025-11-10 \(no61)",
        ], "No. 61 is suspended before it takes effect")
        XCTAssertEqual(events("export_control_resumed"), [
            "2026-11-10 \(affiliates)", "2026-11-10 \(no62)", "2026-11-10 \(no55)", "2026-11-10 \(no61)", "2026-11-27 \(no46)",
        ])
        XCTAssertEqual(events("tariff_ended").filter { $0.hasPrefix("2026-02-24") }.count, 3, "the IEEPA tariffs still in force end on 24 Feb 2026")
        let court = items.first { $0["kind"] == .string("statement") && $0["date"] == .string("2026-02-20") }
        XCTAssertEqual(court?["title"]?.stringValue?.hasPrefix("Supreme Court of the United States: "), true)
        XCTAssertEqual(events("round_started").last, "2026-05-14 7")
    }
}
