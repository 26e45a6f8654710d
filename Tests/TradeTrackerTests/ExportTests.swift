import JSON
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// List exports end to end (API.md §1 "Exports"): `?format=csv|ndjson` (or `Accept`) on every list streams every row
/// the filters and sort select, from one snapshot, chunked; RFC 4180 CSV with a header row, NDJSON one item a line;
/// an `"export-…"` ETag with 304s, HEAD, `download=1`, and 400s for a bad format or bad filters.
final class ExportTests: ResourceAPITestCase {
    static let statementColumns = ["id", "participant_id", "speaker", "said_on", "text", "context", "negotiation_id", "round_id",
                                   "issue_id", "source_id", "created_at", "updated_at", "version"]

    // MARK: helpers

    /// RFC 4180 rows of `bytes`; fails the test on a bare CR or LF outside quotes, a stray quote, an unterminated
    /// quoted field or a last row without its CRLF.
    private func parseCSV(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var inQuotes = false, quoted = false, dirty = false
        var i = 0
        func endField() {
            row.append(String(decoding: field, as: UTF8.self))
            field = []
            quoted = false
        }
        while i < bytes.count {
            let b = bytes[i]
            dirty = true
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(b)
                        i += 2
                        continue
                    }
                    inQuotes = false
                } else {
                    field.append(b)
                }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                guard field.isEmpty, !quoted else {
                    XCTFail("a quote inside an unquoted field at byte \(i)", file: file, line: line)
                    return rows
                }
                inQuotes = true
                quoted = true
            case UInt8(ascii: ","):
                endField()
            case 13:
                guard i + 1 < bytes.count, bytes[i + 1] == 10 else {
                    XCTFail("a CR not followed by LF at byte \(i)", file: file, line: line)
                    return rows
                }
                endField()
                rows.append(row)
                row = []
                dirty = false
                i += 2
                continue
            case 10:
                XCTFail("a bare LF (not CRLF) at byte \(i)", file: file, line: line)
                return rows
            default:
                guard !quoted else {
                    XCTFail("text after a closing quote at byte \(i)", file: file, line: line)
                    return rows
                }
                field.append(b)
            }
            i += 1
        }
        XCTAssertFalse(inQuotes, "an unterminated quoted field", file: file, line: line)
        XCTAssertFalse(dirty, "the last row ends with CRLF", file: file, line: line)
        return rows
    }

    /// A CSV export: 200, CSV content type, chunked; its header row and data rows.
    private func csv(_ path: String, headers: [(String, String)] = [], file: StaticString = #filePath,
                     line: UInt = #line) throws -> (header: [String], rows: [[String]], response: TestResponse) {
        let response = try api.get(path, headers: headers)
        XCTAssertEqual(response.status, 200, "\(path): \(response.text)", file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "text/csv; charset=utf-8", path, file: file, line: line)
        XCTAssertEqual(response.headers["Transfer-Encoding"]?.lowercased(), "chunked", path, file: file, line: line)
        XCTAssertNil(response.headers["Content-Length"], path, file: file, line: line)
        let all = parseCSV(response.body, file: file, line: line)
        let header = try XCTUnwrap(all.first, "no header row in \(path)", file: file, line: line)
        for (n, row) in all.enumerated() {
            XCTAssertEqual(row.count, header.count, "row \(n) of \(path) has as many cells as the header", file: file, line: line)
        }
        return (header, Array(all.dropFirst()), response)
    }

    /// An NDJSON export: 200, NDJSON content type, chunked; each line parsed.
    private func ndjson(_ path: String, headers: [(String, String)] = [], file: StaticString = #filePath,
                        line: UInt = #line) throws -> [JSONValue] {
        let response = try api.get(path, headers: headers)
        XCTAssertEqual(response.status, 200, "\(path): \(response.text)", file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/x-ndjson", path, file: file, line: line)
        XCTAssertEqual(response.headers["Transfer-Encoding"]?.lowercased(), "chunked", path, file: file, line: line)
        if response.body.isEmpty { return [] }
        XCTAssertEqual(response.body.last, 10, "the last line ends with LF", file: file, line: line)
        var lines = response.body.split(separator: 10, omittingEmptySubsequences: false)
        XCTAssertEqual(lines.removeLast(), [], "nothing after the last LF", file: file, line: line)
        return try lines.map { line in
            XCTAssertFalse(line.contains(13), "no CR in an NDJSON line")
            return try JSONParser.parse(Array(line))
        }
    }

    /// Every item of a JSON list, walking `next_cursor` with `limit=500`.
    private func walk(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [JSONValue] {
        let base = String(path.split(separator: "?", maxSplits: 1)[0])
        var response = try api.get(path + (path.contains("?") ? "&" : "?") + "limit=500")
        var items: [JSONValue] = []
        for _ in 0..<50 {
            XCTAssertEqual(response.status, 200, response.text, file: file, line: line)
            XCTAssertEqual(response.headers["Content-Type"], "application/json; charset=utf-8", file: file, line: line)
            items += try response.data()
            guard let cursor = try response.nextCursor() else { return items }
            response = try api.get("\(base)?cursor=\(cursor)&limit=500")
        }
        XCTFail("too many pages", file: file, line: line)
        return items
    }

    /// A CSV row is the JSON item: scalars as their text (null empty), lists and objects as JSON text.
    private func assertRow(_ row: [String], header: [String], equals item: JSONValue, file: StaticString = #filePath,
                           line: UInt = #line) {
        XCTAssertEqual(header, item.keys, "the CSV columns are the item's members in order", file: file, line: line)
        for (column, cell) in zip(header, row) {
            let value = item[column] ?? .null
            switch value {
            case .null: XCTAssertEqual(cell, "", column, file: file, line: line)
            case .bool(let b): XCTAssertEqual(cell, b ? "true" : "false", column, file: file, line: line)
            case .number(let text): XCTAssertEqual(cell, text, column, file: file, line: line)
            case .string(let s): XCTAssertEqual(cell, s, column, file: file, line: line)
            case .array, .object:
                XCTAssertEqual(try? JSONParser.parse(Array(cell.utf8)), value, "\(column): \(cell)", file: file, line: line)
            }
        }
    }

    private func assertRows(_ rows: [[String]], header: [String], equals items: [JSONValue], file: StaticString = #filePath,
                            line: UInt = #line) {
        XCTAssertEqual(rows.count, items.count, "as many rows as items", file: file, line: line)
        for (row, item) in zip(rows, items) { assertRow(row, header: header, equals: item, file: file, line: line) }
    }

    @discardableResult
    private func statement(negotiation: Int, saidOn: String, speaker: String = "A spokesperson", text: String = "Substantial progress",
                           extra: String = "", file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        var members: [(String, JSONValue)] = [("speaker", .string(speaker)), ("said_on", .string(saidOn)), ("text", .string(text)),
                                              ("negotiation_id", .int(negotiation))]
        if !extra.isEmpty, case .object(let more)? = try? JSONParser.parse(Array("{\(extra)}".utf8)) { members += more }
        return try api.create("/v1/statements", String(decoding: JSONValue.object(members).encoded, as: UTF8.self), file: file, line: line)
    }

    // MARK: (1) CSV = the JSON pages

    func testCSVOfAFilteredSortedListEqualsEveryJSONPageInOrder() throws {
        let a = try api.negotiation(), b = try api.negotiation()
        for i in 0..<1_100 {
            // 28 distinct dates, so the sort has ties that id breaks; every 10th row belongs to the other negotiation.
            try statement(negotiation: i % 10 == 0 ? b : a, saidOn: String(format: "2025-03-%02d", i % 28 + 1), speaker: "Speaker \(i)",
                          text: i % 7 == 0 ? "Talks, \"frank\" and\nlong" : "Progress \(i)")
        }
        let path = "/v1/statements?negotiation_id=\(a)&sort=-said_on"
        let pages = try walk(path)
        XCTAssertEqual(pages.count, 990)
        let expected = try app.query("SELECT id FROM statements WHERE negotiation_id = ? ORDER BY said_on DESC, id", [.integer(Int64(a))])
            .map { Int($0.int("id") ?? 0) }
        XCTAssertEqual(try pages.map { try XCTUnwrap($0["id"]?.intValue) }, expected, "the JSON pages are the filtered, sorted rows")

        let export = try csv(path + "&format=csv")
        XCTAssertEqual(export.header, Self.statementColumns)
        XCTAssertEqual(export.rows.map { Int($0[0]) ?? -1 }, expected, "the export has the same ids in the same order, no limit")
        assertRows(export.rows, header: export.header, equals: pages)
        XCTAssertTrue(export.response.text.hasPrefix(Self.statementColumns.joined(separator: ",") + "\r\n"), "the header row comes first")

        // NDJSON of the same list: the same items.
        XCTAssertEqual(try ndjson(path + "&format=ndjson"), pages)

        // `limit` and `cursor` do not page an export: both give every row from the first.
        let limited = try csv(path + "&format=csv&limit=10")
        XCTAssertEqual(limited.rows.map { Int($0[0]) ?? -1 }, expected, "limit is ignored by an export")
        let first = try api.get(path + "&limit=10")
        let cursor = try XCTUnwrap(try first.nextCursor())
        let resumed = try csv("/v1/statements?cursor=\(cursor)&format=csv")
        XCTAssertEqual(resumed.rows.map { Int($0[0]) ?? -1 }, expected, "a cursor keeps its filters and sort but the export starts at the first row")
    }

    // MARK: (2) quoting and round trip

    func testCSVQuotesCommaQuoteAndLineBreaksAndParsesBackToTheValues() throws {
        let n = try api.negotiation(parties: #"["USA","CHN"]"#)
        let tricky = "He said \"yes, maybe\"\nthen left\r\nagain"
        let id = try statement(negotiation: n, saidOn: "2025-05-12", speaker: "Smith, John", text: tricky,
                               extra: #""context":"plain words""#)
        let quoteOnly = try statement(negotiation: n, saidOn: "2025-05-13", speaker: "O\"Neil", text: "cr\ronly")
        let export = try csv("/v1/statements?negotiation_id=\(n)&format=csv")
        let raw = export.response.text
        XCTAssertTrue(raw.contains("\(id),,\"Smith, John\",2025-05-12,\"He said \"\"yes, maybe\"\"\nthen left\r\nagain\",plain words,\(n),,,,"),
                      "commas, quotes and line breaks are quoted, quotes doubled, plain cells bare and nulls empty: \(raw)")
        XCTAssertTrue(raw.contains("\(quoteOnly),,\"O\"\"Neil\",2025-05-13,\"cr\ronly\","), raw)
        XCTAssertEqual(export.rows.count, 2)
        XCTAssertEqual(export.rows[0][0], String(id))
        XCTAssertEqual(export.rows[0][2], "Smith, John")
        XCTAssertEqual(export.rows[0][4], tricky, "the cell parses back to the stored text")
        XCTAssertEqual(export.rows[0][5], "plain words")
        XCTAssertEqual(export.rows[1][2], "O\"Neil")
        XCTAssertEqual(export.rows[1][4], "cr\ronly")
        assertRows(export.rows, header: export.header, equals: try api.get("/v1/statements?negotiation_id=\(n)").data())

        // A list field is its JSON text, quoted because it holds quotes and a comma.
        let negotiations = try csv("/v1/negotiations?format=csv")
        let parties = try XCTUnwrap(negotiations.header.firstIndex(of: "parties"))
        XCTAssertTrue(negotiations.response.text.contains(#""[""USA"",""CHN""]""#), negotiations.response.text)
        XCTAssertEqual(try JSONParser.parse(Array(negotiations.rows[0][parties].utf8)), .array([.string("USA"), .string("CHN")]))
        assertRows(negotiations.rows, header: negotiations.header, equals: try api.get("/v1/negotiations").data())
    }

    // MARK: (3) NDJSON

    func testNDJSONLinesEqualThePageItems() throws {
        let n = try api.negotiation()
        for day in 1...5 { try statement(negotiation: n, saidOn: "2025-06-0\(day)", text: "Line \(day)\nwith a break") }
        let page = try api.get("/v1/statements?negotiation_id=\(n)&sort=-said_on").data()
        let lines = try ndjson("/v1/statements?negotiation_id=\(n)&sort=-said_on&format=ndjson")
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(lines, page, "each line is the object the JSON page lists, in the page's order")
        XCTAssertEqual(lines.map { $0["said_on"]?.stringValue }, (1...5).reversed().map { "2025-06-0\($0)" })

        // Measures: rates, list fields and the computed in_effect_today are the same in CSV, NDJSON and JSON.
        try api.tariffMeasure(rate: "12.5", from: "2025-04-05", extra: #","hs_codes":["8703"]"#)
        try api.tariffMeasure(by: "CHN", on: "USA", rate: "34", from: "2099-01-01")
        let measures = try api.get("/v1/tariff-measures").data()
        XCTAssertEqual(measures.count, 2)
        XCTAssertEqual(try ndjson("/v1/tariff-measures?format=ndjson"), measures)
        let export = try csv("/v1/tariff-measures?format=csv")
        assertRows(export.rows, header: export.header, equals: measures)
        XCTAssertEqual(export.rows[0][try XCTUnwrap(export.header.firstIndex(of: "rate_percent"))], "12.5")
        XCTAssertEqual(export.rows.map { $0[export.header.firstIndex(of: "in_effect_today") ?? 0] }, ["true", "false"])
    }

    // MARK: (4) negotiation and precedence

    func testAcceptNegotiationAndFormatPrecedence() throws {
        let n = try api.negotiation()
        try statement(negotiation: n, saidOn: "2025-05-12")
        let path = "/v1/statements?negotiation_id=\(n)"
        let page = try api.get(path)
        XCTAssertEqual(page.headers["Content-Type"], "application/json; charset=utf-8")
        let items = try page.data()
        XCTAssertEqual(items.count, 1)

        for accept in ["text/csv", "text/csv; q=0.9", "TEXT/CSV", "text/html, text/csv"] {
            let export = try csv(path, headers: [("Accept", accept)])
            XCTAssertEqual(export.header, Self.statementColumns, accept)
            assertRows(export.rows, header: export.header, equals: items)
        }
        for accept in ["application/x-ndjson", "application/ndjson"] {
            XCTAssertEqual(try ndjson(path, headers: [("Accept", accept)]), items, accept)
        }
        for accept in ["application/json", "*/*", "application/json, text/csv", "text/html"] {
            let response = try api.get(path, headers: [("Accept", accept)])
            XCTAssertEqual(response.status, 200, accept)
            XCTAssertEqual(response.headers["Content-Type"], "application/json; charset=utf-8", accept)
            XCTAssertEqual(try response.data(), items, accept)
        }
        // `format` wins over Accept.
        let json = try api.get(path + "&format=json", headers: [("Accept", "text/csv")])
        XCTAssertEqual(json.headers["Content-Type"], "application/json; charset=utf-8")
        XCTAssertEqual(try json.data(), items)
        XCTAssertEqual(try json.nextCursor(), nil)
        XCTAssertEqual(json.text, page.text, "format=json is the normal page")
        let csvOverNDJSON = try csv(path + "&format=csv", headers: [("Accept", "application/x-ndjson")])
        XCTAssertEqual(csvOverNDJSON.header, Self.statementColumns)
        XCTAssertEqual(try ndjson(path + "&format=ndjson", headers: [("Accept", "text/csv")]), items)
    }

    // MARK: (5) ETag and 304

    func testExportETagGives304AndChangesAfterAWrite() throws {
        let n = try api.negotiation()
        try statement(negotiation: n, saidOn: "2025-05-12")
        let path = "/v1/statements?negotiation_id=\(n)&format=csv"
        let first = try api.get(path)
        XCTAssertEqual(first.status, 200)
        let tag = try XCTUnwrap(first.headers["ETag"])
        XCTAssertTrue(tag.hasPrefix("\"export-") && tag.hasSuffix("\""), tag)
        XCTAssertEqual(first.headers["Cache-Control"], "private, no-cache")
        XCTAssertEqual(try api.get(path).headers["ETag"], tag, "the same data gives the same ETag")

        let notModified = try api.get(path, headers: [("If-None-Match", tag)])
        XCTAssertEqual(notModified.status, 304)
        XCTAssertTrue(notModified.body.isEmpty)
        XCTAssertEqual(notModified.headers["ETag"], tag)
        XCTAssertEqual(try api.get(path, headers: [("If-None-Match", "\"other\", \(tag)")]).status, 304, "a tag in a list matches")
        XCTAssertEqual(try api.get(path, headers: [("If-None-Match", "\"export-0-0-0\"")]).status, 200)

        // Another format or other filters name another export.
        let ndjsonTag = try XCTUnwrap(try api.get("/v1/statements?negotiation_id=\(n)&format=ndjson").headers["ETag"])
        XCTAssertNotEqual(ndjsonTag, tag)
        XCTAssertEqual(try api.get("/v1/statements?negotiation_id=\(n)&format=ndjson", headers: [("If-None-Match", tag)]).status, 200)
        XCTAssertNotEqual(try api.get("/v1/statements?format=csv").headers["ETag"], tag)

        // A write changes the ETag; the old one no longer matches and the new row is in the body.
        let added = try statement(negotiation: n, saidOn: "2025-05-13")
        let after = try api.get(path, headers: [("If-None-Match", tag)])
        XCTAssertEqual(after.status, 200, "a write makes the old ETag stale")
        let newTag = try XCTUnwrap(after.headers["ETag"])
        XCTAssertNotEqual(newTag, tag)
        XCTAssertTrue(newTag.hasPrefix("\"export-"), newTag)
        XCTAssertEqual(parseCSV(after.body).dropFirst().map { $0[0] }.last, String(added))
        XCTAssertEqual(try api.get(path, headers: [("If-None-Match", newTag)]).status, 304)
    }

    // MARK: (6) HEAD

    func testHEADGivesTheExportHeadersWithoutABody() throws {
        let n = try api.negotiation()
        try statement(negotiation: n, saidOn: "2025-05-12")
        let path = "/v1/statements?negotiation_id=\(n)&format=csv"
        let get = try api.get(path)
        let client = app.client()
        let head = try client.request("HEAD", path)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["Content-Type"], "text/csv; charset=utf-8")
        XCTAssertEqual(head.headers["ETag"], get.headers["ETag"])
        XCTAssertTrue(head.body.isEmpty)
        // The GET's framing, not a length of zero it would not have (RFC 9110 §9.3.2).
        XCTAssertNil(head.headers["Content-Length"])
        XCTAssertEqual(head.headers["Transfer-Encoding"], get.headers["Transfer-Encoding"])
        XCTAssertEqual(head.headers["Transfer-Encoding"], "chunked")
        let headNDJSON = try client.request("HEAD", "/v1/statements?negotiation_id=\(n)&format=ndjson&download=1")
        XCTAssertEqual(headNDJSON.status, 200)
        XCTAssertEqual(headNDJSON.headers["Content-Type"], "application/x-ndjson")
        XCTAssertEqual(headNDJSON.headers["Content-Disposition"], "attachment; filename=\"statements.ndjson\"")
        // Nothing was sent after the HEAD responses: the next response on the connection parses cleanly.
        let next = try client.request("GET", path)
        XCTAssertEqual(next.status, 200)
        XCTAssertEqual(next.body, get.body)
        XCTAssertEqual(try client.request("HEAD", path, headers: [("If-None-Match", get.headers["ETag"] ?? "")]).status, 304)
    }

    // MARK: (7) download

    func testDownloadSetsContentDisposition() throws {
        let n = try api.negotiation()
        try api.round(negotiation: n)
        let csvDownload = try api.get("/v1/statements?format=csv&download=1")
        XCTAssertEqual(csvDownload.status, 200)
        XCTAssertEqual(csvDownload.headers["Content-Disposition"], "attachment; filename=\"statements.csv\"")
        XCTAssertEqual(try api.get("/v1/rounds?format=ndjson&download=true").headers["Content-Disposition"],
                       "attachment; filename=\"rounds.ndjson\"")
        XCTAssertEqual(try api.get("/v1/negotiations/\(n)/timeline?format=csv&download=1").headers["Content-Disposition"],
                       "attachment; filename=\"timeline.csv\"")
        XCTAssertEqual(try api.get("/v1/changes?format=csv&download=1").headers["Content-Disposition"],
                       "attachment; filename=\"changes.csv\"")
        XCTAssertNil(try api.get("/v1/statements?format=csv").headers["Content-Disposition"])
        XCTAssertNil(try api.get("/v1/statements?format=csv&download=0").headers["Content-Disposition"])
        assertBadParameter(try api.get("/v1/statements?format=csv&download=yes"), "download")
        // A 304 leaves the disposition out.
        let tag = try XCTUnwrap(csvDownload.headers["ETag"])
        let notModified = try api.get("/v1/statements?format=csv&download=1", headers: [("If-None-Match", tag)])
        XCTAssertEqual(notModified.status, 304)
        XCTAssertNil(notModified.headers["Content-Disposition"])
    }

    // MARK: (8) the other lists

    func testHistoryExport() throws {
        let n = try api.negotiation(title: "First title")
        XCTAssertEqual(try api.patch("/v1/negotiations/\(n)", #"{"title":"Second, \"better\" title"}"#).status, 200)
        let page = try api.get("/v1/negotiations/\(n)/history").data()
        XCTAssertEqual(page.count, 2)
        let export = try csv("/v1/negotiations/\(n)/history?format=csv")
        XCTAssertEqual(export.header, ["seq", "at", "action", "actor", "request_id", "changes"])
        XCTAssertEqual(export.rows.map { $0[2] }, ["created", "updated"])
        assertRows(export.rows, header: export.header, equals: page)
        XCTAssertEqual(try JSONParser.parse(Array(export.rows[1][5].utf8))["title"],
                       .change(.string("First title"), .string("Second, \"better\" title")))
        XCTAssertEqual(try ndjson("/v1/negotiations/\(n)/history?format=ndjson"), page)
        XCTAssertEqual(try api.get("/v1/negotiations/\(n)/history?format=csv&download=1").headers["Content-Disposition"],
                       "attachment; filename=\"negotiations-\(n)-history.csv\"")
    }

    func testTimelineExport() throws {
        let n = try api.negotiation()
        let round = try api.round(negotiation: n, title: "Geneva talks", starts: "2025-05-10", ends: "2025-05-11")
        let said = try statement(negotiation: n, saidOn: "2025-05-12", speaker: "Spokesperson, MOFCOM", text: "Substantial progress")
        let page = try api.get("/v1/negotiations/\(n)/timeline").data()
        XCTAssertEqual(page.count, 3)
        let export = try csv("/v1/negotiations/\(n)/timeline?format=csv")
        XCTAssertEqual(export.header, ["date", "kind", "title", "ref"])
        XCTAssertEqual(export.rows.map { $0[1] }, ["round_started", "round_ended", "statement"])
        XCTAssertEqual(export.rows[0][0], "2025-05-10")
        XCTAssertEqual(export.rows[0][2], "Start of Geneva talks (Geneva)")
        XCTAssertEqual(export.rows[2][2], "Spokesperson, MOFCOM: Substantial progress")
        XCTAssertEqual(try JSONParser.parse(Array(export.rows[0][3].utf8)), .object([("type", .string("rounds")), ("id", .int(round))]))
        XCTAssertEqual(try JSONParser.parse(Array(export.rows[2][3].utf8)), .object([("type", .string("statements")), ("id", .int(said))]))
        assertRows(export.rows, header: export.header, equals: page)
        XCTAssertEqual(try ndjson("/v1/negotiations/\(n)/timeline?format=ndjson"), page)
        // The timeline's filters apply to the export.
        let filtered = try csv("/v1/negotiations/\(n)/timeline?kind=statement&format=csv")
        XCTAssertEqual(filtered.rows.map { $0[1] }, ["statement"])
        let ranged = try csv("/v1/negotiations/\(n)/timeline?from=2025-05-11&to=2025-05-11&format=csv")
        XCTAssertEqual(ranged.rows.map { $0[1] }, ["round_ended"])
        Problems.assertProblem(try api.get("/v1/negotiations/999999/timeline?format=csv"), status: 404, code: "not_found")
    }

    func testChangeFeedExport() throws {
        let n = try api.negotiation()
        try api.round(negotiation: n)
        XCTAssertEqual(try api.patch("/v1/negotiations/\(n)", #"{"title":"Renamed"}"#).status, 200)
        let page = try api.get("/v1/changes?since=0&limit=500").data()
        let logged = try app.count("change_log")
        XCTAssertEqual(Int64(page.count), logged)
        XCTAssertGreaterThanOrEqual(page.count, 3)
        let export = try csv("/v1/changes?format=csv")
        XCTAssertEqual(export.header, ["seq", "at", "resource", "id", "action", "actor", "request_id"])
        assertRows(export.rows, header: export.header, equals: page)
        XCTAssertEqual(try ndjson("/v1/changes?format=ndjson"), page)
        // `resource` and `since` narrow the export.
        let negotiations = try csv("/v1/changes?resource=negotiations&format=csv")
        XCTAssertEqual(negotiations.rows.map { $0[2] }, ["negotiations", "negotiations"])
        XCTAssertEqual(negotiations.rows.map { $0[4] }, ["created", "updated"])
        let firstSeq = try XCTUnwrap(page.first?["seq"]?.intValue)
        // `since` narrows the export as it narrows the JSON feed.
        XCTAssertEqual(try api.get("/v1/changes?since=\(firstSeq)&limit=500").data(), Array(page.dropFirst()))
        XCTAssertEqual(try ndjson("/v1/changes?since=\(firstSeq)&format=ndjson"), Array(page.dropFirst()))
        XCTAssertEqual(try csv("/v1/changes?since=\(firstSeq)&format=csv").rows.count, page.count - 1)
        let accept = try csv("/v1/changes", headers: [("Accept", "text/csv")])
        XCTAssertEqual(accept.rows, export.rows, "Accept: text/csv exports the feed too")
        // Ahead of the log: the same 410 as the JSON feed.
        let ahead = try api.get("/v1/changes?since=\(logged + 1000)&format=csv")
        XCTAssertEqual(ahead.status, try api.get("/v1/changes?since=\(logged + 1000)").status)
        XCTAssertGreaterThanOrEqual(ahead.status, 400, ahead.text)
    }

    func testRoundParticipantsExport() throws {
        let n = try api.negotiation()
        let round = try api.round(negotiation: n)
        let lead = try api.participant(name: "Bessent, Scott", country: "USA")
        let delegate = try api.participant(name: "He Lifeng", country: "CHN")
        let observer = try api.participant(name: #"Jamieson \"Jamie\" Greer"#, country: "USA")
        try api.attend(round: round, participant: observer, role: "observer")
        try api.attend(round: round, participant: delegate, role: "delegate")
        try api.attend(round: round, participant: lead, role: "lead")
        let page = try api.get("/v1/rounds/\(round)/participants").data()
        let export = try csv("/v1/rounds/\(round)/participants?format=csv")
        XCTAssertEqual(export.header, ["round_id", "participant_id", "role", "participant", "created_at", "updated_at", "version"])
        XCTAssertEqual(export.rows.map { $0[2] }, ["lead", "delegate", "observer"], "leads first, the list's order")
        XCTAssertEqual(export.rows.map { $0[1] }, [lead, delegate, observer].map(String.init))
        let participant = try JSONParser.parse(Array(export.rows[0][3].utf8))
        XCTAssertEqual(participant["name"], .string("Bessent, Scott"))
        XCTAssertEqual(participant["id"], .int(lead))
        XCTAssertEqual(try JSONParser.parse(Array(export.rows[2][3].utf8))["name"], .string(#"Jamieson "Jamie" Greer"#))
        assertRows(export.rows, header: export.header, equals: page)
        XCTAssertEqual(try ndjson("/v1/rounds/\(round)/participants?format=ndjson"), page)
        // The other direction: a participant's rounds.
        let rounds = try csv("/v1/participants/\(lead)/rounds?format=csv")
        XCTAssertEqual(rounds.header, ["round_id", "participant_id", "role", "round", "created_at", "updated_at", "version"])
        assertRows(rounds.rows, header: rounds.header, equals: try api.get("/v1/participants/\(lead)/rounds").data())
        Problems.assertProblem(try api.get("/v1/rounds/999999/participants?format=csv"), status: 404, code: "not_found")
    }

    // MARK: concurrency

    /// Opens a connection with a tiny receive buffer, sends a GET and reads only the response head, so the export's
    /// body (megabytes) stays unread and the server's stream blocks. Returns the socket and the status line.
    private func stalledRequest(_ path: String) throws -> (fd: Int32, statusLine: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var size: Int32 = 2048
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(app.port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw TestClientError.connectFailed(errno) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !(head.count >= 4 && Array(head.suffix(4)) == [13, 10, 13, 10]) {
            guard read(fd, &byte, 1) == 1 else { throw TestClientError.closed }
            head.append(byte)
        }
        let text = String(decoding: head, as: UTF8.self)
        return (fd, text.components(separatedBy: "\r\n").first ?? "")
    }

    func testAThirdConcurrentExportIs503WithRetryAfter() throws {
        let n = try api.negotiation()
        let long = String(repeating: "tariff talks ", count: 760)
        for i in 0..<600 { try statement(negotiation: n, saidOn: "2025-05-12", text: "\(i) \(long)") }
        let path = "/v1/statements?format=csv"
        let first = try stalledRequest(path)
        let second = try stalledRequest(path)
        XCTAssertEqual(first.statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(second.statusLine, "HTTP/1.1 200 OK")
        // Both streams are stuck on their unread bodies (about 6 MB each): a third export is refused.
        let third = try api.get(path)
        Problems.assertProblem(third, status: 503, code: "service_unavailable")
        XCTAssertEqual(third.headers["Retry-After"], "2")
        let ndjsonToo = try api.get("/v1/changes?format=ndjson")
        XCTAssertEqual(ndjsonToo.status, 503, "the limit is across every list and format")
        // A JSON page is not an export and is still served.
        XCTAssertEqual(try api.get("/v1/statements?limit=1").status, 200)
        // Once the stalled readers go away their slots are freed.
        Glibc.close(first.fd)
        Glibc.close(second.fd)
        var status = 0
        XCTAssertTrue(eventually(timeout: 10) {
            status = (try? self.api.get("/v1/negotiations?format=csv").status) ?? 0
            return status == 200
        }, "an export is served again after the stalled ones end (last status \(status))")
    }

    // MARK: (9) errors

    func testBadFormatAndFilterErrorsAre400InExportMode() throws {
        let n = try api.negotiation()
        for format in ["xml", "CSV", "", "csv,ndjson"] {
            let response = try api.get("/v1/statements?format=\(format)")
            assertBadParameter(response, "format", format)
            Problems.assertProblem(response, status: 400, code: "invalid_parameter")
        }
        assertBadParameter(try api.get("/v1/statements?format=xml", headers: [("Accept", "text/csv")]), "format", "Accept does not rescue a bad format")
        assertBadParameter(try api.get("/v1/changes?format=xml"), "format")
        assertBadParameter(try api.get("/v1/negotiations/\(n)/timeline?format=tsv"), "format")
        assertBadParameter(try api.get("/v1/negotiations/\(n)/history?format=tsv"), "format")
        assertBadParameter(try api.get("/v1/statements?format=csv&format=ndjson"), "format", "given twice")

        // Filter errors are still 400 when exporting, by format or by Accept.
        assertBadParameter(try api.get("/v1/statements?negotiation_id=abc&format=csv"), "negotiation_id")
        assertBadParameter(try api.get("/v1/statements?sort=bogus&format=ndjson"), "sort")
        assertBadParameter(try api.get("/v1/statements?limit=0&format=csv"), "limit")
        assertBadParameter(try api.get("/v1/statements?nope=1&format=csv"), "nope")
        assertBadParameter(try api.get("/v1/statements?from=2025-13-01", headers: [("Accept", "text/csv")]), "from")
        assertBadParameter(try api.get("/v1/negotiations/\(n)/timeline?kind=bogus&format=csv"), "kind")
        assertBadParameter(try api.get("/v1/changes?resource=bogus&format=csv"), "resource")
        assertBadParameter(try api.get("/v1/statements?cursor=garbage&format=csv"), "cursor")
        Problems.assertProblem(try api.get("/v1/negotiations/999999/history?format=csv"), status: 404, code: "not_found")
    }
}
