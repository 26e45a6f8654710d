import JSON
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// `/v1/export-controls` end to end (API.md §2 "export-controls"): every field and rule, every filter, history,
/// the change feed, ETags and conditional writes, Idempotency-Key replay and `in_effect_today`.
final class ExportControlsTests: ResourceAPITestCase {
    /// A valid control body; `extra` (`,"name":value…`) adds members or replaces the default ones.
    private func body(_ extra: String = "") -> String {
        Measures.body([("imposed_by", #""CHN""#), ("items", #"["dysprosium"]"#), ("control", #""licence_required""#),
                       ("effective_from", #""2025-04-04""#)], extra)
    }

    private func ids(_ query: String, file: StaticString = #filePath, line: UInt = #line) throws -> [Int] {
        let response = try api.get("/v1/export-controls?\(query)")
        XCTAssertEqual(response.status, 200, "\(query): \(response.text)", file: file, line: line)
        return try response.ids()
    }

    // MARK: create and read

    func testCreateReturns201WithTheFullRecordAndDefaults() throws {
        let response = try api.post("/v1/export-controls", body())
        let json = try Lifecycle.assertCreated(response, collection: "/v1/export-controls", fields: Measures.exportControlFields)
        XCTAssertEqual(json["imposed_by"], .string("CHN"))
        XCTAssertEqual(json["items"], .array([.string("dysprosium")]))
        XCTAssertEqual(json["control"], .string("licence_required"))
        XCTAssertEqual(json["effective_from"], .string("2025-04-04"))
        XCTAssertEqual(json["status"], .string("enacted"), "status defaults to enacted")
        for name in ["applies_to", "hs_codes", "suspensions", "responds_to"] {
            XCTAssertEqual(json[name], .array([]), "\(name) defaults to an empty list (applies_to: every destination)")
        }
        for name in ["legal_basis", "announced_on", "effective_until", "negotiation_id", "issue_id", "source_id", "notes"] {
            XCTAssertEqual(json[name], .null, name)
        }
        XCTAssertEqual(json["in_effect_today"], .bool(true))
        let id = try XCTUnwrap(json["id"]?.intValue)
        try Lifecycle.assertReads(api, "/v1/export-controls/\(id)", body: response.body, etag: response.headers["ETag"])
        XCTAssertEqual(try api.get("/v1/export-controls").data(), [json], "the list writes the same record")
    }

    func testCreateWithEveryField() throws {
        let negotiation = try api.negotiation()
        let issue = try api.issue(negotiation: negotiation, category: "rare_earths", title: "Rare earths")
        let source = try api.source(url: "https://www.mofcom.gov.cn/2025/18")
        let tariff = try api.tariffMeasure(rate: "34", from: "2025-04-05")
        let response = try api.post("/v1/export-controls", #"""
            {"imposed_by":"CHN","applies_to":["USA","JPN"],"items":["samarium","NdFeB magnets"],"hs_codes":["2805","850511"],
             "control":"ban","legal_basis":"MOFCOM/GAC Announcement No. 18 (2025)","status":"proposed","announced_on":"2025-04-04",
             "effective_from":"2025-04-04","effective_until":"2026-04-04",
             "suspensions":[{"from":"2025-11-10","until":"2026-11-10","note":"Announcement No. 70"}],
             "responds_to":[{"type":"tariff-measures","id":\#(tariff)}],
             "negotiation_id":\#(negotiation),"issue_id":\#(issue),"source_id":\#(source),"notes":"Licences eased after London"}
            """#)
        let json = try Lifecycle.assertCreated(response, collection: "/v1/export-controls", fields: Measures.exportControlFields)
        XCTAssertEqual(json["applies_to"], .array([.string("USA"), .string("JPN")]))
        XCTAssertEqual(json["items"], .array([.string("samarium"), .string("NdFeB magnets")]))
        XCTAssertEqual(json["hs_codes"], .array([.string("2805"), .string("850511")]))
        XCTAssertEqual(json["control"], .string("ban"))
        XCTAssertEqual(json["legal_basis"], .string("MOFCOM/GAC Announcement No. 18 (2025)"))
        XCTAssertEqual(json["status"], .string("proposed"))
        XCTAssertEqual(json["announced_on"], .string("2025-04-04"))
        XCTAssertEqual(json["effective_until"], .string("2026-04-04"))
        XCTAssertEqual(json["suspensions"], .array([Measures.window("2025-11-10", "2026-11-10", "Announcement No. 70")]))
        XCTAssertEqual(json["responds_to"], .array([Measures.reference("tariff-measures", tariff)]))
        XCTAssertEqual(json["negotiation_id"], .int(negotiation))
        XCTAssertEqual(json["issue_id"], .int(issue))
        XCTAssertEqual(json["source_id"], .int(source))
        XCTAssertEqual(json["notes"], .string("Licences eased after London"))
        XCTAssertEqual(json["in_effect_today"], .bool(false), "proposed")
        for control in ["licence_required", "ban", "quota", "end_use_restriction"] {
            let created = try api.post("/v1/export-controls", #"{"imposed_by":"USA","items":["chips"],"control":"\#(control)","effective_from":"2025-01-01"}"#)
            XCTAssertEqual(created.status, 201, control)
            XCTAssertEqual(try created.json()["control"], .string(control))
        }
    }

    // MARK: rules

    func testRequiredFieldsEnumerationsAndCountries() throws {
        Problems.assertValidation(try api.post("/v1/export-controls", "{}"), ["/imposed_by", "/items", "/control", "/effective_from"])
        let cases: [(String, [String])] = [
            (#","items":[]"#, ["/items"]),
            (#","items":[""]"#, ["/items/0"]),
            (#","items":["gallium",5]"#, ["/items/1"]),
            (#","items":"gallium""#, ["/items"]),
            (#","items":["\#(String(repeating: "x", count: 201))"]"#, ["/items/0"]),
            (#","items":[\#((1...201).map { "\"i\($0)\"" }.joined(separator: ","))]"#, ["/items"]),
            (#","control":"embargo""#, ["/control"]),
            (#","status":"active""#, ["/status"]),
            (#","imposed_by":"XX""#, ["/imposed_by"]),
            (#","imposed_by":"chn""#, ["/imposed_by"]),
            (#","applies_to":["XXX"]"#, ["/applies_to/0"]),
            (#","applies_to":["USA","usa"]"#, ["/applies_to/1"]),
            (#","applies_to":["USA","USA"]"#, ["/applies_to/1"]),
            (#","applies_to":"USA""#, ["/applies_to"]),
            (#","effective_until":"2025-04-04""#, ["/effective_until"]),
            (#","effective_until":"2025-04-01""#, ["/effective_until"]),
            (#","effective_from":"2025-02-30""#, ["/effective_from"]),
            (#","announced_on":"2025-04-31""#, ["/announced_on"]),
            (#","legal_basis":"\#(String(repeating: "l", count: 501))""#, ["/legal_basis"]),
            (#","notes":"\#(String(repeating: "n", count: 10_001))""#, ["/notes"]),
            (#","item":"gallium""#, ["/item"]),
            (#","in_effect_today":true,"id":3"#, ["/in_effect_today", "/id"]),
            (#","negotiation_id":9999,"issue_id":9998,"source_id":9997"#, ["/negotiation_id", "/issue_id", "/source_id"]),
            (#","negotiation_id":"1""#, ["/negotiation_id"]),
        ]
        for (extra, pointers) in cases {
            Problems.assertValidation(try api.post("/v1/export-controls", body(extra)), pointers)
        }
        // Several problems of one body at once.
        Problems.assertValidation(try api.post("/v1/export-controls", #"""
            {"imposed_by":"CHN","applies_to":["XXX"],"items":[],"control":"embargo","effective_from":"2025-04-04","effective_until":"2025-01-01","foo":1}
            """#), ["/applies_to/0", "/items", "/control", "/effective_until", "/foo"])
        XCTAssertEqual(try app.count("export_controls"), 0)
        XCTAssertEqual(try app.count("change_log"), 0)
        XCTAssertEqual(try api.post("/v1/export-controls", body(#","applies_to":["EUN","GBR"],"effective_until":"2025-04-05""#)).status, 201,
                       "one day in force; EUN stands for the EU")
        XCTAssertEqual(try api.post("/v1/export-controls", body(#","items":["\#(String(repeating: "x", count: 200))"]"#)).status, 201)
    }

    func testPatchMergesClearsWithNullAndBumpsVersion() throws {
        let created = try api.post("/v1/export-controls", body(#","legal_basis":"No. 18","notes":"draft","effective_until":"2026-01-01","applies_to":["USA"]"#))
        let before = try created.json()
        let id = try XCTUnwrap(before["id"]?.intValue)
        let path = "/v1/export-controls/\(id)"
        Lifecycle.tick()
        let patched = try api.patch(path, #"{"notes":null,"effective_until":null,"items":["dysprosium","terbium"],"applies_to":[]}"#)
        XCTAssertEqual(patched.status, 200, patched.text)
        let json = try patched.json()
        XCTAssertEqual(json["notes"], .null)
        XCTAssertEqual(json["effective_until"], .null)
        XCTAssertEqual(json["items"], .array([.string("dysprosium"), .string("terbium")]))
        XCTAssertEqual(json["applies_to"], .array([]))
        XCTAssertEqual(json["legal_basis"], .string("No. 18"), "untouched")
        XCTAssertEqual(json["version"], .int(2))
        XCTAssertEqual(json["created_at"], before["created_at"])
        XCTAssertGreaterThan(json["updated_at"]?.stringValue ?? "", before["updated_at"]?.stringValue ?? "")
        try Lifecycle.assertReads(api, path, body: patched.body, etag: patched.headers["ETag"])
        let merge = try api.client.request("PATCH", path, headers: [("Authorization", "Bearer \(Fixtures.writeToken)"),
                                                                      ("Content-Type", "application/merge-patch+json")],
                                           body: Array(#"{"control":"quota"}"#.utf8))
        XCTAssertEqual(merge.status, 200, merge.text)
        XCTAssertEqual(try merge.json()["control"], .string("quota"))
        Problems.assertValidation(try api.patch(path, #"{"items":null,"control":null,"imposed_by":null,"effective_from":null}"#),
                                  ["/items", "/control", "/imposed_by", "/effective_from"])
        Problems.assertValidation(try api.patch(path, #"{"items":[]}"#), ["/items"])
        Problems.assertValidation(try api.patch(path, #"{"applies_to":["XXX"],"control":"embargo"}"#), ["/applies_to/0", "/control"])
        Problems.assertValidation(try api.patch(path, #"{"effective_until":"2025-04-04"}"#), ["/effective_until"])
        Problems.assertValidation(try api.patch(path, #"{"in_effect_today":false}"#), ["/in_effect_today"])
        XCTAssertEqual(try api.get(path).json()["version"], .int(3))
        Problems.assertProblem(try api.patch("/v1/export-controls/9999", #"{"control":"ban"}"#), status: 404, code: "not_found")
    }

    func testDeleteIs204ThenGoneAndReferencedParentsAre409() throws {
        let id = try api.exportControl()
        try Lifecycle.assertDeletes(api, "/v1/export-controls/\(id)")

        let negotiation = try api.negotiation()
        let issue = try api.issue(negotiation: negotiation, category: "rare_earths")
        let source = try api.source()
        let linked = try api.exportControl(extra: #","negotiation_id":\#(negotiation),"issue_id":\#(issue),"source_id":\#(source)"#)
        let byNegotiation = Problems.assertProblem(try api.delete("/v1/negotiations/\(negotiation)"), status: 409, code: "referenced")
        XCTAssertEqual(byNegotiation?["referenced_by"], .object([("issues", .int(1)), ("export-controls", .int(1))]))
        let byIssue = Problems.assertProblem(try api.delete("/v1/issues/\(issue)"), status: 409, code: "referenced")
        XCTAssertEqual(byIssue?["referenced_by"], .object([("export-controls", .int(1))]))
        let bySource = Problems.assertProblem(try api.delete("/v1/sources/\(source)"), status: 409, code: "referenced")
        XCTAssertEqual(bySource?["referenced_by"], .object([("export-controls", .int(1))]))
        XCTAssertEqual(try api.delete("/v1/export-controls/\(linked)").status, 204)
        XCTAssertEqual(try api.delete("/v1/issues/\(issue)").status, 204, "free once the control is gone")
        XCTAssertEqual(try api.delete("/v1/sources/\(source)").status, 204)
        XCTAssertEqual(try api.delete("/v1/negotiations/\(negotiation)").status, 204)
    }

    // MARK: in_effect_today

    func testInEffectTodayFollowsStatusDatesAndWindows() throws {
        let today = Fixtures.today(), tomorrow = Fixtures.today(offsetDays: 1), yesterday = Fixtures.today(offsetDays: -1)
        let cases: [(String, Bool, String)] = [
            (#","effective_from":"2020-01-01""#, true, "enacted, started, no end"),
            (#","effective_from":"\#(today)""#, true, "starts today"),
            (#","effective_from":"\#(tomorrow)""#, false, "starts tomorrow"),
            (#","effective_from":"2020-01-01","effective_until":"\#(today)""#, false, "ended today (exclusive)"),
            (#","effective_from":"2020-01-01","effective_until":"\#(tomorrow)""#, true, "ends tomorrow"),
            (#","effective_from":"2020-01-01","status":"proposed""#, false, "proposed"),
            (#","effective_from":"2020-01-01","status":"withdrawn""#, false, "withdrawn"),
            (#","effective_from":"2020-01-01","suspensions":[{"from":"\#(today)","until":"\#(tomorrow)"}]"#, false, "suspended today only"),
            (#","effective_from":"2020-01-01","suspensions":[{"from":"\#(yesterday)"}]"#, false, "suspended with no end"),
            (#","effective_from":"2020-01-01","suspensions":[{"from":"2020-02-01","until":"\#(today)"}]"#, true, "the window ended today"),
            (#","effective_from":"2020-01-01","suspensions":[{"from":"\#(tomorrow)"}]"#, true, "suspended from tomorrow"),
        ]
        for (extra, expected, why) in cases {
            let response = try api.post("/v1/export-controls", #"{"imposed_by":"CHN","items":["antimony"],"control":"ban"\#(extra)}"#)
            XCTAssertEqual(response.status, 201, "\(why): \(response.text)")
            XCTAssertEqual(try response.json()["in_effect_today"], .bool(expected), why)
            let id = try XCTUnwrap(try response.json()["id"]?.intValue)
            XCTAssertEqual(try api.get("/v1/export-controls/\(id)").json()["in_effect_today"], .bool(expected), why)
        }
        let id = try api.exportControl(from: "2020-01-01")
        let suspended = try api.patch("/v1/export-controls/\(id)", #"{"suspensions":[{"from":"\#(yesterday)","until":"\#(tomorrow)"}]}"#)
        XCTAssertEqual(try suspended.json()["in_effect_today"], .bool(false), "a PATCH that suspends it")
        XCTAssertEqual(try api.patch("/v1/export-controls/\(id)", #"{"suspensions":[]}"#).json()["in_effect_today"], .bool(true))
    }

    // MARK: filters

    /// Five controls: ids 1…5 on a fresh database.
    private func seedFilters() throws -> (n1: Int, n2: Int, i1: Int, i2: Int) {
        let n1 = try api.negotiation(), n2 = try api.negotiation()
        let i1 = try api.issue(negotiation: n1, category: "rare_earths"), i2 = try api.issue(negotiation: n1, category: "export_controls")
        XCTAssertEqual(try api.exportControl(items: #"["Dysprosium","NdFeB magnets"]"#, from: "2025-04-04", extra: #"""
            ,"hs_codes":["850511"],"negotiation_id":\#(n1),"issue_id":\#(i1),"legal_basis":"MOFCOM/GAC Announcement No. 18 (2025)",
            "notes":"Seven medium and heavy rare earths"
            """#), 1)
        XCTAssertEqual(try api.exportControl(items: #"["gallium","germanium"]"#, control: "ban", from: "2024-12-03", extra: #"""
            ,"applies_to":["USA"],"hs_codes":["8112"],"negotiation_id":\#(n1),"issue_id":\#(i2),"legal_basis":"MOFCOM Announcement No. 46 (2024)",
            "suspensions":[{"from":"2025-11-09","until":"2026-11-27"}]
            """#), 2)
        XCTAssertEqual(try api.exportControl(by: "USA", items: #"["advanced computing chips"]"#, control: "end_use_restriction", from: "2025-01-15",
                                             extra: #","applies_to":["CHN","HKG"],"hs_codes":["8542"],"effective_until":"2025-07-01","negotiation_id":\#(n2)"#), 3)
        XCTAssertEqual(try api.exportControl(items: #"["graphite"]"#, control: "quota", from: "2025-06-01",
                                             extra: #","applies_to":["USA","JPN"],"hs_codes":["25"],"status":"proposed""#), 4)
        XCTAssertEqual(try api.exportControl(by: "EUN", items: #"["dysprosium"]"#, from: "2025-01-01", extra: #","status":"withdrawn""#), 5)
        return (n1, n2, i1, i2)
    }

    func testEveryFilterWithExactResults() throws {
        let seeded = try seedFilters()
        let cases: [(String, [Int])] = [
            ("imposed_by=CHN", [1, 2, 4]), ("imposed_by=USA,EUN", [3, 5]), ("imposed_by=CHN&imposed_by=EUN", [1, 2, 4, 5]),
            // applies_to: a control that names destinations applies to those; one with none applies to every destination.
            ("applies_to=USA", [1, 2, 4, 5]), ("applies_to=JPN", [1, 4, 5]), ("applies_to=CHN", [1, 3, 5]), ("applies_to=HKG,JPN", [1, 3, 4, 5]), ("applies_to=GBR", [1, 5]),
            ("control=ban", [2]), ("control=quota,end_use_restriction", [3, 4]), ("control=licence_required", [1, 5]),
            ("status=enacted", [1, 2, 3]), ("status=proposed", [4]), ("status=withdrawn", [5]), ("status=proposed,withdrawn", [4, 5]),
            // item: one whole list entry, any case; never a substring.
            ("item=dysprosium", [1, 5]), ("item=DYSPROSIUM", [1, 5]), ("item=ndfeb%20MAGNETS", [1]), ("item=dyspro", []),
            ("item=magnets", []), ("item=gallium,graphite", [2, 4]), ("item=Germanium", [2]),
            // hs_code: a stored code that starts with the given one, or is a prefix of it.
            ("hs_code=8505", [1]), ("hs_code=850511", [1]), ("hs_code=8505119000", [1]), ("hs_code=85", [1, 3]), ("hs_code=2504", [4]),
            ("hs_code=25", [4]), ("hs_code=8542311000", [3]), ("hs_code=81,25", [2, 4]), ("hs_code=9999", []), ("hs_code=8506", []),
            // in_effect_on: enacted, within [effective_from, effective_until), outside every window.
            ("in_effect_on=2025-05-01", [1, 2, 3]), ("in_effect_on=2025-04-03", [2, 3]), ("in_effect_on=2025-04-04", [1, 2, 3]),
            ("in_effect_on=2025-07-01", [1, 2]), ("in_effect_on=2025-11-08", [1, 2]), ("in_effect_on=2025-11-09", [1]),
            ("in_effect_on=2026-11-26", [1]), ("in_effect_on=2026-11-27", [1, 2]), ("in_effect_on=2024-12-02", []),
            ("in_effect_on=2025-04-03,2025-11-15", [1, 2, 3]), ("in_effect_on=2025-04-03,2025-11-09", [1, 2, 3]), ("in_effect_on=2025-11-09,2025-11-10", [1]), ("in_effect_on=2025-11-15&in_effect_on=2025-05-01", [1, 2, 3]),
            ("negotiation_id=\(seeded.n1)", [1, 2]), ("negotiation_id=\(seeded.n2)", [3]), ("negotiation_id=\(seeded.n1),\(seeded.n2)", [1, 2, 3]),
            ("issue_id=\(seeded.i1)", [1]), ("issue_id=\(seeded.i2)", [2]), ("issue_id=9999", []),
            ("q=dysprosium", [1, 5]), ("q=gallium", [2]), ("q=announcement", [1, 2]), ("q=heavy", [1]), ("q=computing", [3]), ("q=tariff", []),
            // Combined: AND across filters.
            ("imposed_by=CHN&in_effect_on=2025-05-01", [1, 2]), ("item=dysprosium&status=enacted", [1]),
            ("applies_to=USA&control=ban&hs_code=81", [2]), ("in_effect_on=2025-06-01&item=dysprosium", [1]),
            ("q=announcement&in_effect_on=2025-11-15", [1]),
        ]
        for (query, expected) in cases {
            XCTAssertEqual(try ids(query), expected, query)
        }
    }

    func testSearchFollowsPatchesAndDeletes() throws {
        let id = try api.exportControl(items: #"["dysprosium"]"#, extra: #","legal_basis":"Announcement No. 18","notes":"Licences eased after London""#)
        let other = try api.exportControl(items: #"["tungsten"]"#)
        XCTAssertEqual(try ids("q=dysprosium"), [id])
        XCTAssertEqual(try ids("q=london"), [id], "notes are searched")
        XCTAssertEqual(try ids("q=DYSPR%C3%93SIUM"), [id], "case and accents do not matter")
        XCTAssertEqual(try api.patch("/v1/export-controls/\(id)", #"{"items":["terbium"],"notes":null}"#).status, 200)
        XCTAssertEqual(try ids("q=dysprosium"), [], "the old item is gone from the index")
        XCTAssertEqual(try ids("q=terbium"), [id])
        XCTAssertEqual(try ids("q=london"), [])
        XCTAssertEqual(try ids("q=announcement"), [id], "the untouched legal basis is still found")
        XCTAssertEqual(try api.delete("/v1/export-controls/\(id)").status, 204)
        XCTAssertEqual(try ids("q=terbium"), [])
        XCTAssertEqual(try ids("q=tungsten"), [other])
        assertBadParameter(try api.get("/v1/export-controls?q="), "q")
    }

    func testSortAndPaging() throws {
        _ = try seedFilters()
        XCTAssertEqual(try ids("sort=effective_from"), [2, 5, 3, 1, 4])
        XCTAssertEqual(try ids("sort=-effective_from"), [4, 1, 3, 5, 2])
        XCTAssertEqual(try ids(""), [1, 2, 3, 4, 5], "by id by default")
        var seen: [Int] = []
        var path = "/v1/export-controls?limit=2&sort=-effective_from"
        for _ in 0..<5 {
            let response = try api.get(path)
            XCTAssertEqual(response.status, 200, response.text)
            seen += try response.ids()
            guard let cursor = try response.nextCursor() else { break }
            XCTAssertEqual(response.headers["Link"], "</v1/export-controls?cursor=\(cursor)&limit=2>; rel=\"next\"")
            path = "/v1/export-controls?cursor=\(cursor)&limit=2"
        }
        XCTAssertEqual(seen, [4, 1, 3, 5, 2])
        let first = try api.get("/v1/export-controls?limit=1&imposed_by=CHN")
        let cursor = try XCTUnwrap(try first.nextCursor())
        Problems.assertProblem(try api.get("/v1/export-controls?cursor=\(cursor)&imposed_by=USA"), status: 400, code: "invalid_parameter")
        Problems.assertProblem(try api.get("/v1/tariff-measures?cursor=\(cursor)"), status: 400, code: "invalid_parameter")
    }

    func testBadFilterValuesAre400NamingTheParameter() throws {
        let cases: [(String, String)] = [
            ("in_effect_on=2025-02-30", "in_effect_on"), ("in_effect_on=today", "in_effect_on"), ("in_effect_on=2025-6-1", "in_effect_on"),
            ("in_effect_on=2025-06-01,someday", "in_effect_on"),
            ("hs_code=12a", "hs_code"), ("hs_code=123", "hs_code"), ("hs_code=1", "hs_code"), ("hs_code=85051112345", "hs_code"),
            ("hs_code=8505,85x5", "hs_code"),
            ("control=embargo", "control"), ("status=active", "status"), ("applies_to=XXX", "applies_to"), ("applies_to=usa", "applies_to"),
            ("imposed_by=XX", "imposed_by"), ("issue_id=0", "issue_id"), ("negotiation_id=x", "negotiation_id"),
            ("item=", "item"), ("item=\(String(repeating: "x", count: 201))", "item"),
            ("sort=items", "sort"), ("sort=control", "sort"), ("limit=0", "limit"), ("limit=501", "limit"), ("items=gallium", "items"),
            ("imposed_on=USA", "imposed_on"),
        ]
        for (query, parameter) in cases {
            assertBadParameter(try api.get("/v1/export-controls?\(query)"), parameter, query)
        }
    }

    // MARK: caching, concurrency, idempotency

    func testETagsConditionalGetsAndIfMatch() throws {
        let created = try api.post("/v1/export-controls", body())
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        let path = "/v1/export-controls/\(id)"
        let tag = try XCTUnwrap(created.headers["ETag"])
        let read = try api.get(path)
        XCTAssertEqual(read.headers["ETag"], tag)
        XCTAssertEqual(read.headers["Cache-Control"], "private, no-cache")
        for field in [tag, "W/\(tag)", "\"x\", \(tag)", "*"] {
            let notModified = try api.get(path, headers: [("If-None-Match", field)])
            XCTAssertEqual(notModified.status, 304, field)
            XCTAssertTrue(notModified.body.isEmpty)
            XCTAssertEqual(notModified.headers["ETag"], tag)
        }
        let head = try api.client.request("HEAD", path)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["ETag"], tag)
        XCTAssertTrue(head.body.isEmpty)

        let list = try api.get("/v1/export-controls")
        let listTag = try XCTUnwrap(list.headers["ETag"])
        XCTAssertEqual(try api.get("/v1/export-controls", headers: [("If-None-Match", listTag)]).status, 304)

        let stale = try api.patch(path, #"{"control":"ban"}"#, headers: [("If-Match", "\"stale\"")])
        XCTAssertEqual(stale.status, 412, stale.text)
        XCTAssertEqual(stale.problemCode, "precondition_failed")
        XCTAssertEqual(try api.get(path).json()["version"], .int(1), "a 412 changes nothing")
        let patched = try api.patch(path, #"{"control":"ban"}"#, headers: [("If-Match", tag)])
        XCTAssertEqual(patched.status, 200, patched.text)
        let newTag = try XCTUnwrap(patched.headers["ETag"])
        XCTAssertNotEqual(newTag, tag)
        XCTAssertEqual(try api.get(path, headers: [("If-None-Match", tag)]).status, 200, "the old tag no longer matches")
        XCTAssertEqual(try api.get("/v1/export-controls", headers: [("If-None-Match", listTag)]).status, 200, "the list changed")
        XCTAssertEqual(try api.delete(path, headers: [("If-Match", tag)]).status, 412)
        XCTAssertEqual(try api.delete(path, headers: [("If-Match", newTag)]).status, 204)
    }

    func testIdempotencyKeyReplaysTheFirstResponse() throws {
        let key = [("Idempotency-Key", "ec-key-1")]
        let first = try api.post("/v1/export-controls", body(), headers: key)
        XCTAssertEqual(first.status, 201)
        XCTAssertNil(first.headers["Idempotent-Replayed"])
        let again = try api.post("/v1/export-controls", body(), headers: key)
        XCTAssertEqual(again.status, 201)
        XCTAssertEqual(again.body, first.body)
        XCTAssertEqual(again.headers["Idempotent-Replayed"], "true")
        XCTAssertEqual(again.headers["Location"], first.headers["Location"])
        XCTAssertEqual(try app.count("export_controls"), 1)
        Problems.assertProblem(try api.post("/v1/export-controls", body(#","notes":"other""#), headers: key), status: 422,
                               code: "idempotency_key_reused")
        XCTAssertEqual(try app.count("export_controls"), 1)
        XCTAssertEqual(try app.count("change_log"), 1)
    }

    // MARK: change log, feed, history

    func testEveryWriteAppendsItsChangeRowAndTheFeedNamesTheResource() throws {
        _ = try api.tariffMeasure()
        let created = try api.post("/v1/export-controls", body(#","applies_to":["USA"]"#), headers: [("X-Request-ID", "ec-1")])
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        XCTAssertEqual(try api.patch("/v1/export-controls/\(id)", #"{"control":"ban","items":["dysprosium"]}"#).status, 200)
        XCTAssertEqual(try api.delete("/v1/export-controls/\(id)").status, 204)

        let rows = try app.changeRows("export-controls", id)
        XCTAssertEqual(rows.map(\.action), ["created", "updated", "deleted"])
        XCTAssertEqual(rows.map(\.actor), ["writer", "writer", "writer"])
        XCTAssertEqual(rows.first?.requestID, "ec-1")
        XCTAssertEqual(rows[0].changes.keys, Measures.exportControlWritable, "in_effect_today is computed, not logged")
        XCTAssertEqual(rows[0].changes["items"], .change(.null, .array([.string("dysprosium")])))
        XCTAssertEqual(rows[0].changes["applies_to"], .change(.null, .array([.string("USA")])))
        XCTAssertEqual(rows[0].changes["suspensions"], .change(.null, .array([])))
        XCTAssertEqual(rows[1].changes, .object([("control", .change(.string("licence_required"), .string("ban")))]),
                       "only what changed (items were sent unchanged)")
        XCTAssertEqual(rows[2].changes.keys, Measures.exportControlWritable)
        XCTAssertEqual(rows[2].changes["control"], .change(.string("ban"), .null))

        let feed = try api.get("/v1/changes?since=0&resource=export-controls").json()
        let entries = feed["data"]?.arrayValue ?? []
        XCTAssertEqual(entries.map { $0["resource"] ?? .null }, Array(repeating: .string("export-controls"), count: 3))
        XCTAssertEqual(entries.map { $0["id"] ?? .null }, Array(repeating: .int(id), count: 3))
        XCTAssertEqual(entries.map { $0["action"] ?? .null }, [.string("created"), .string("updated"), .string("deleted")])
        XCTAssertEqual(entries.map { $0["seq"]?.intValue ?? -1 }, rows.map { Int($0.seq) })
        XCTAssertEqual(try api.get("/v1/changes?since=0&resource=tariff-measures").data().count, 1, "the other resource's row is apart")

        let history = try api.get("/v1/export-controls/\(id)/history").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(history.map { $0["action"] ?? .null }, [.string("created"), .string("updated"), .string("deleted")],
                       "still readable after the delete")
        XCTAssertEqual(history.map { $0["seq"]?.intValue ?? -1 }, rows.map { Int($0.seq) })
        XCTAssertEqual(history[1]["changes"], rows[1].changes)
        Problems.assertProblem(try api.get("/v1/export-controls/9999/history"), status: 404, code: "not_found")
    }

    /// API.md §2: `item` is a case-insensitive match of one list entry, not an ASCII-only one.
    func testItemMatchesWithoutCaseBeyondASCII() throws {
        let id = try api.exportControl(by: "EUN", items: #"["Éléments de terres rares","Öl"]"#, control: "quota")
        XCTAssertEqual(try ids("item=%C3%89l%C3%A9ments%20de%20terres%20rares"), [id], "same case")
        XCTAssertEqual(try ids("item=%C3%A9l%C3%A9ments%20de%20terres%20rares"), [id], "é for É")
        XCTAssertEqual(try ids("item=%C3%B6l"), [id], "ö for Ö")
    }
}
