import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// What links measures to goods and to each other (API.md §2 "Measures … also carry"): `hs_codes` and the
/// `hs_code` prefix filter, `responds_to` references, the `/responses` lists and the 409 on deleting a measure
/// that others answer.
final class MeasureLinksTests: ResourceAPITestCase {
    /// POSTs a partial USA→CHN tariff measure; `extra` adds or replaces members.
    private func tariff(_ extra: String) throws -> TestResponse {
        try api.post("/v1/tariff-measures", Measures.body([("imposed_by", #""USA""#), ("imposed_on", #""CHN""#), ("rate_percent", "25"),
                                                           ("coverage", #""partial""#), ("effective_from", #""2025-01-01""#)], extra))
    }

    /// POSTs a CHN export control; `extra` adds or replaces members.
    private func control(_ extra: String) throws -> TestResponse {
        try api.post("/v1/export-controls", Measures.body([("imposed_by", #""CHN""#), ("items", #"["graphite"]"#), ("control", #""ban""#),
                                                          ("effective_from", #""2025-01-01""#)], extra))
    }

    private func ids(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [Int] {
        let response = try api.get(path)
        XCTAssertEqual(response.status, 200, "\(path): \(response.text)", file: file, line: line)
        return try response.ids()
    }

    // MARK: hs_codes

    func testHSCodesAreStringsOfTwoToTenDigitsEachOnce() throws {
        let codes = #"["85","8505","850511","85051100","8505110000"]"#
        for (kind, post) in [("tariff-measures", tariff), ("export-controls", control)] {
            let created = try post(#","hs_codes":\#(codes)"#)
            XCTAssertEqual(created.status, 201, "\(kind): \(created.text)")
            XCTAssertEqual(try created.json()["hs_codes"], .array(["85", "8505", "850511", "85051100", "8505110000"].map(JSONValue.string)),
                           "kept as sent, leading digits and all")
            XCTAssertEqual(try post(#","hs_codes":["0201","020711"]"#).json()["hs_codes"], .array([.string("0201"), .string("020711")]),
                           "a leading zero is kept: codes are strings")
            let cases: [(String, [String])] = [
                (#"["8"]"#, ["/hs_codes/0"]), (#"["850"]"#, ["/hs_codes/0"]), (#"["85051"]"#, ["/hs_codes/0"]),
                (#"["85051100001"]"#, ["/hs_codes/0"]), (#"["850511000000"]"#, ["/hs_codes/0"]),
                (#"["85a5"]"#, ["/hs_codes/0"]), (#"["ab"]"#, ["/hs_codes/0"]), (#"[" 8505"]"#, ["/hs_codes/0"]),
                (#"["8505.11"]"#, ["/hs_codes/0"]), (#"["８５"]"#, ["/hs_codes/0"]), (#"[""]"#, ["/hs_codes/0"]),
                (#"[8505]"#, ["/hs_codes/0"]), (#"[null]"#, ["/hs_codes/0"]),
                (#"["8505","8505"]"#, ["/hs_codes/1"]), (#"["85","8505","85"]"#, ["/hs_codes/2"]),
                (#"["8505","8","850","85051","85051100001","8x"]"#, ["/hs_codes/1", "/hs_codes/2", "/hs_codes/3", "/hs_codes/4", "/hs_codes/5"]),
                (#""8505""#, ["/hs_codes"]), (#"{"8505":true}"#, ["/hs_codes"]),
            ]
            for (value, pointers) in cases {
                Problems.assertValidation(try post(#","hs_codes":\#(value)"#), pointers)
            }
        }
        XCTAssertEqual(try app.count("tariff_measures"), 2)
        XCTAssertEqual(try app.count("export_controls"), 2)
        Problems.assertValidation(try api.patch("/v1/tariff-measures/1", #"{"hs_codes":["8505","85055"]}"#), ["/hs_codes/1"])
        Problems.assertValidation(try api.patch("/v1/export-controls/1", #"{"hs_codes":["2504","2504"]}"#), ["/hs_codes/1"])
        XCTAssertEqual(try api.patch("/v1/tariff-measures/1", #"{"hs_codes":[]}"#).json()["hs_codes"], .array([]))
    }

    func testTheHSCodeFilterMatchesAPrefixEitherWay() throws {
        for (kind, post) in [("tariff-measures", tariff), ("export-controls", control)] {
            let magnets = try XCTUnwrap(try post(#","hs_codes":["850511"]"#).json()["id"]?.intValue)
            let chapter = try XCTUnwrap(try post(#","hs_codes":["85"]"#).json()["id"]?.intValue)
            let transformers = try XCTUnwrap(try post(#","hs_codes":["8504"]"#).json()["id"]?.intValue)
            let graphite = try XCTUnwrap(try post(#","hs_codes":["2504","8545"]"#).json()["id"]?.intValue)
            _ = try post("")                                             // no codes: never matched
            let cases: [(String, [Int])] = [
                ("8505", [magnets, chapter]),                            // 850511 starts with it; 85 is a prefix of it
                ("85", [magnets, chapter, transformers, graphite]),
                ("850511", [magnets, chapter]),
                ("8505110000", [magnets, chapter]),
                ("850512", [chapter]),
                ("2504", [graphite]), ("25", [graphite]), ("250410", [graphite]),
                ("8505,2504", [magnets, chapter, graphite]),
                ("12", []), ("8506", [chapter]),
            ]
            for (code, expected) in cases {
                XCTAssertEqual(try ids("/v1/\(kind)?hs_code=\(code)&limit=500"), expected, "\(kind) hs_code=\(code)")
            }
            XCTAssertEqual(try ids("/v1/\(kind)?hs_code=8505&hs_code=2504"), [magnets, chapter, graphite], "repeated: OR")
            for bad in ["12a", "123", "1", "85051", "85051100001", "", "8505,x"] {
                assertBadParameter(try api.get("/v1/\(kind)?hs_code=\(bad)"), "hs_code", "\(kind) hs_code=\(bad)")
            }
        }
    }

    // MARK: responds_to

    func testRespondsToNamesStoredMeasuresOfEitherKind() throws {
        let fentanyl = try api.tariffMeasure(rate: "10", from: "2025-02-04")
        let rareEarths = try XCTUnwrap(try control("").json()["id"]?.intValue)
        let created = try tariff(#","responds_to":[{"type":"tariff-measures","id":\#(fentanyl)},{"id":\#(rareEarths),"type":"export-controls"}]"#)
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(try created.json()["responds_to"], .array([
            Measures.reference("tariff-measures", fentanyl), Measures.reference("export-controls", rareEarths),
        ]), "stored normalised as {type, id}")
        let answer = try control(#","responds_to":[{"type":"tariff-measures","id":\#(fentanyl)}]"#)
        XCTAssertEqual(answer.status, 201, answer.text)
        XCTAssertEqual(try answer.json()["responds_to"], .array([Measures.reference("tariff-measures", fentanyl)]))
        // The same id under the other type is not the record itself.
        XCTAssertEqual(try api.patch("/v1/export-controls/\(rareEarths)", #"{"responds_to":[{"type":"tariff-measures","id":\#(rareEarths)}]}"#).status,
                       200)

        let cases: [(String, [String])] = [
            (#"[{"type":"tariff-measures","id":9999}]"#, ["/responds_to/0"]),
            (#"[{"type":"tariff-measures","id":\#(fentanyl)},{"type":"export-controls","id":9999}]"#, ["/responds_to/1"]),
            (#"[{"type":"export-controls","id":9999},{"type":"tariff-measures","id":9998}]"#, ["/responds_to/0", "/responds_to/1"]),
            (#"[{"type":"rounds","id":1}]"#, ["/responds_to/0/type"]),
            (#"[{"type":"tariff_measures","id":1}]"#, ["/responds_to/0/type"]),
            (#"[{"id":1}]"#, ["/responds_to/0/type"]),
            (#"[{"type":"tariff-measures","id":"1"}]"#, ["/responds_to/0/id"]),
            (#"[{"type":"tariff-measures","id":0}]"#, ["/responds_to/0/id"]),
            (#"[{"type":"tariff-measures","id":1.5}]"#, ["/responds_to/0/id"]),
            (#"[{"type":"tariff-measures"}]"#, ["/responds_to/0/id"]),
            (#"[{"type":"tariff-measures","id":\#(fentanyl),"note":"x"}]"#, ["/responds_to/0/note"]),
            (#"[{"type":"tariff-measures","id":\#(fentanyl)},{"type":"tariff-measures","id":\#(fentanyl)}]"#, ["/responds_to/1"]),
            (#"[\#(fentanyl)]"#, ["/responds_to/0"]),
            (#"{"type":"tariff-measures","id":\#(fentanyl)}"#, ["/responds_to"]),
        ]
        let before = (try app.count("tariff_measures"), try app.count("export_controls"))
        for (value, pointers) in cases {
            Problems.assertValidation(try tariff(#","responds_to":\#(value)"#), pointers)
            Problems.assertValidation(try control(#","responds_to":\#(value)"#), pointers)
        }
        XCTAssertEqual(try app.count("tariff_measures"), before.0)
        XCTAssertEqual(try app.count("export_controls"), before.1)
    }

    func testAMeasureCannotRespondToItself() throws {
        let tariffID = try api.tariffMeasure()
        let controlID = try XCTUnwrap(try control("").json()["id"]?.intValue)
        let other = try api.tariffMeasure(rate: "5")
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(tariffID)", #"{"responds_to":[{"type":"tariff-measures","id":\#(tariffID)}]}"#),
                                  ["/responds_to/0"])
        Problems.assertValidation(try api.patch("/v1/tariff-measures/\(tariffID)", #"""
            {"responds_to":[{"type":"tariff-measures","id":\#(other)},{"type":"tariff-measures","id":\#(tariffID)}]}
            """#), ["/responds_to/1"])
        Problems.assertValidation(try api.patch("/v1/export-controls/\(controlID)", #"{"responds_to":[{"type":"export-controls","id":\#(controlID)}]}"#),
                                  ["/responds_to/0"])
        XCTAssertEqual(try api.get("/v1/tariff-measures/\(tariffID)").json()["version"], .int(1))
        XCTAssertEqual(try api.get("/v1/export-controls/\(controlID)").json()["version"], .int(1))
        // A later PATCH of another field keeps checking the stored links (still valid here).
        let linked = try api.patch("/v1/tariff-measures/\(tariffID)", #"{"responds_to":[{"type":"tariff-measures","id":\#(other)}]}"#)
        XCTAssertEqual(linked.status, 200, linked.text)
        XCTAssertEqual(try api.patch("/v1/tariff-measures/\(tariffID)", #"{"notes":"answers the 5 %"}"#).status, 200)
    }

    // MARK: /responses

    func testResponsesListTheMeasuresOfEitherKindThatNameIt() throws {
        let fentanyl = try api.tariffMeasure(rate: "10", from: "2025-02-04")
        let unrelated = try api.tariffMeasure(rate: "84", from: "2025-04-09")
        let coal = try XCTUnwrap(try api.post("/v1/tariff-measures", #"""
            {"imposed_by":"CHN","imposed_on":"USA","rate_percent":15,"coverage":"partial","effective_from":"2025-02-10",
             "responds_to":[{"type":"tariff-measures","id":\#(fentanyl)}]}
            """#).json()["id"]?.intValue)
        let rareEarths = try XCTUnwrap(try control(#","effective_from":"2025-02-10","responds_to":[{"type":"tariff-measures","id":\#(fentanyl)},{"type":"tariff-measures","id":\#(unrelated)}]"#)
            .json()["id"]?.intValue)
        let farm = try XCTUnwrap(try api.post("/v1/tariff-measures", #"""
            {"imposed_by":"CHN","imposed_on":"USA","rate_percent":10,"coverage":"partial","effective_from":"2025-03-10",
             "responds_to":[{"type":"tariff-measures","id":\#(fentanyl)}]}
            """#).json()["id"]?.intValue)
        let earlyControl = try XCTUnwrap(try control(#","effective_from":"2024-12-03","responds_to":[{"type":"tariff-measures","id":\#(fentanyl)}]"#)
            .json()["id"]?.intValue)
        let counter = try api.tariffMeasure(rate: "1", from: "2025-06-01", extra: #","responds_to":[{"type":"export-controls","id":\#(rareEarths)}]"#)

        let response = try api.get("/v1/tariff-measures/\(fentanyl)/responses")
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
        let items = try response.data()
        // Oldest first (effective_from), then by type, then id.
        XCTAssertEqual(items.map { "\($0["type"]?.stringValue ?? "?") \($0["id"]?.intValue ?? -1)" }, [
            "export-controls \(earlyControl)", "export-controls \(rareEarths)", "tariff-measures \(coal)", "tariff-measures \(farm)",
        ])
        XCTAssertEqual(try response.nextCursor(), nil)
        for item in items {
            XCTAssertEqual(item.keys.first, "type", "each item leads with its type")
            let type = try XCTUnwrap(item["type"]?.stringValue), id = try XCTUnwrap(item["id"]?.intValue)
            let record = try api.get("/v1/\(type)/\(id)").json()
            XCTAssertEqual(item, .object([("type", .string(type))] + (record.objectValue ?? [])), "the full record after its type")
        }
        XCTAssertEqual(try api.get("/v1/tariff-measures/\(unrelated)/responses").data().map { $0["id"]?.intValue ?? -1 }, [rareEarths])
        XCTAssertEqual(try api.get("/v1/export-controls/\(rareEarths)/responses").data().map { "\($0["type"]?.stringValue ?? "?") \($0["id"]?.intValue ?? -1)" },
                       ["tariff-measures \(counter)"])
        XCTAssertEqual(try api.get("/v1/tariff-measures/\(counter)/responses").data(), [], "no one answers it")
        XCTAssertEqual(try api.get("/v1/export-controls/\(earlyControl)/responses").data(), [])

        // Paged like every list, with an ETag.
        var paged: [String] = []
        var path = "/v1/tariff-measures/\(fentanyl)/responses?limit=1"
        for _ in 0..<10 {
            let page = try api.get(path)
            XCTAssertEqual(page.status, 200, page.text)
            paged += try page.data().map { "\($0["type"]?.stringValue ?? "?") \($0["id"]?.intValue ?? -1)" }
            guard let cursor = try page.nextCursor() else { break }
            path = "/v1/tariff-measures/\(fentanyl)/responses?cursor=\(cursor)&limit=1"
        }
        XCTAssertEqual(paged, items.map { "\($0["type"]?.stringValue ?? "?") \($0["id"]?.intValue ?? -1)" })
        let tag = try XCTUnwrap(response.headers["ETag"])
        XCTAssertEqual(try api.get("/v1/tariff-measures/\(fentanyl)/responses", headers: [("If-None-Match", tag)]).status, 304)

        // A link removed leaves the list.
        XCTAssertEqual(try api.patch("/v1/tariff-measures/\(coal)", #"{"responds_to":[]}"#).status, 200)
        XCTAssertEqual(try api.get("/v1/tariff-measures/\(fentanyl)/responses").data().map { $0["id"]?.intValue ?? -1 }, [earlyControl, rareEarths, farm])
        XCTAssertEqual(try api.get("/v1/tariff-measures/\(fentanyl)/responses", headers: [("If-None-Match", tag)]).status, 200)
    }

    func testResponsesOfAnUnknownMeasureAre404AndTheListTakesOnlyPaging() throws {
        let id = try api.tariffMeasure()
        let controlID = try XCTUnwrap(try control("").json()["id"]?.intValue)
        Problems.assertProblem(try api.get("/v1/tariff-measures/9999/responses"), status: 404, code: "not_found")
        Problems.assertProblem(try api.get("/v1/export-controls/9999/responses"), status: 404, code: "not_found")
        Problems.assertProblem(try api.get("/v1/export-controls/\(id + controlID + 10)/responses"), status: 404, code: "not_found")
        for bad in ["type=tariff-measures", "sort=id", "limit=0", "cursor=abc"] {
            Problems.assertProblem(try api.get("/v1/tariff-measures/\(id)/responses?\(bad)"), status: 400, code: "invalid_parameter")
        }
        let other = try api.tariffMeasure()
        for _ in 0..<2 { _ = try api.tariffMeasure(extra: #","responds_to":[{"type":"tariff-measures","id":\#(id)}]"#) }
        let first = try api.get("/v1/tariff-measures/\(id)/responses?limit=1")
        let cursor = try XCTUnwrap(try first.nextCursor())
        Problems.assertProblem(try api.get("/v1/tariff-measures/\(other)/responses?cursor=\(cursor)"), status: 400, code: "invalid_parameter")
        Problems.assertProblem(try api.get("/v1/export-controls/\(controlID)/responses?cursor=\(cursor)"), status: 400, code: "invalid_parameter")
    }

    // MARK: deleting what others answer

    func testDeletingAMeasureOthersRespondToIs409() throws {
        let target = try api.tariffMeasure()
        let answeringTariff = try api.tariffMeasure(rate: "15", extra: #","responds_to":[{"type":"tariff-measures","id":\#(target)}]"#)
        let answeringControl = try XCTUnwrap(try control(#","responds_to":[{"type":"tariff-measures","id":\#(target)}]"#).json()["id"]?.intValue)
        let second = try api.tariffMeasure(rate: "20", extra: #","responds_to":[{"type":"tariff-measures","id":\#(target)}]"#)
        let json = Problems.assertProblem(try api.delete("/v1/tariff-measures/\(target)"), status: 409, code: "referenced")
        XCTAssertEqual(json?["type"], .string("/problems/referenced"))
        XCTAssertEqual(json?["referenced_by"], .object([("tariff-measures", .int(2)), ("export-controls", .int(1))]))
        XCTAssertEqual(try api.get("/v1/tariff-measures/\(target)").status, 200, "nothing deleted")
        XCTAssertEqual(try app.changeRows("tariff-measures", target).map(\.action), ["created"])

        // A control that others answer: the same.
        let answeredControl = try XCTUnwrap(try control("").json()["id"]?.intValue)
        XCTAssertEqual(try api.patch("/v1/tariff-measures/\(second)", #"{"responds_to":[{"type":"export-controls","id":\#(answeredControl)}]}"#).status, 200)
        let byControl = Problems.assertProblem(try api.delete("/v1/export-controls/\(answeredControl)"), status: 409, code: "referenced")
        XCTAssertEqual(byControl?["referenced_by"], .object([("tariff-measures", .int(1))]))

        // Once nobody names it, it goes.
        XCTAssertEqual(try api.patch("/v1/tariff-measures/\(answeringTariff)", #"{"responds_to":[]}"#).status, 200)
        let remaining = Problems.assertProblem(try api.delete("/v1/tariff-measures/\(target)"), status: 409, code: "referenced")
        XCTAssertEqual(remaining?["referenced_by"], .object([("export-controls", .int(1))]))
        XCTAssertEqual(try api.delete("/v1/export-controls/\(answeringControl)").status, 204, "the answering record itself may go")
        XCTAssertEqual(try api.delete("/v1/tariff-measures/\(target)").status, 204)
        XCTAssertEqual(try api.delete("/v1/tariff-measures/\(second)").status, 204)
        XCTAssertEqual(try api.delete("/v1/export-controls/\(answeredControl)").status, 204)
    }
}
