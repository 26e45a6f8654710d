import JSON
import Foundation
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// Shared set-up for the per-resource end-to-end tests: an app with tokens, a client that sends them,
/// creators for every resource (through the API) and assertions on problems and change-log rows.
enum Fixtures {
    static let writeToken = "writer-token-0123456789"
    static let readToken = "reader-token-0123456789"
    static let tokens = "writer:write:\(writeToken),reader:read:\(readToken)"

    /// The real app with a writer and a reader token configured.
    static func app() throws -> TestApp {
        try TestApp { $0.tokens = tokens }
    }

    /// A slug (and text) no other test in the run uses.
    static func unique(_ prefix: String = "n") -> String {
        prefix + "-" + UUID().uuidString.lowercased().prefix(12)
    }

    /// Today in UTC, as the server computes it.
    static func today(offsetDays: Int = 0) -> String {
        let days = Int(Date().timeIntervalSince1970 / 86_400) + offsetDays
        return CalendarDate(daysSinceEpoch: days).description
    }

    /// RFC 3339 UTC with `Z`, as API.md §1 requires.
    static func isTimestamp(_ text: String?) -> Bool {
        guard let text else { return false }
        return text.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"#, options: .regularExpression) != nil
    }
}

/// A test case with the real app (writer and reader tokens) started before each test and stopped after it.
class ResourceAPITestCase: XCTestCase {
    var app: TestApp!
    var api: ResourceAPI!

    override func setUpWithError() throws {
        app = try Fixtures.app()
        api = ResourceAPI(app)
    }

    override func tearDown() { app?.stop() }
}

/// A client that sends the writer's token on writes, with JSON helpers.
final class ResourceAPI {
    let app: TestApp
    let client: TestClient
    let token: String

    init(_ app: TestApp, token: String = Fixtures.writeToken) {
        self.app = app
        self.client = app.client()
        self.token = token
    }

    private var auth: [(String, String)] { [("Authorization", "Bearer \(token)")] }

    func get(_ path: String, headers: [(String, String)] = []) throws -> TestResponse {
        try client.request("GET", path, headers: headers)
    }

    func post(_ path: String, _ json: String, headers: [(String, String)] = []) throws -> TestResponse {
        try client.request("POST", path, json: json, headers: auth + headers)
    }

    func patch(_ path: String, _ json: String, headers: [(String, String)] = []) throws -> TestResponse {
        try client.request("PATCH", path, json: json, headers: auth + headers)
    }

    func delete(_ path: String, headers: [(String, String)] = []) throws -> TestResponse {
        try client.request("DELETE", path, headers: auth + headers)
    }

    /// POSTs `json` and returns the new record's id; fails the test unless the answer is 201.
    @discardableResult
    func create(_ path: String, _ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let response = try post(path, json)
        XCTAssertEqual(response.status, 201, "POST \(path) \(json) → \(response.text)", file: file, line: line)
        guard let id = try response.json()["id"]?.intValue else {
            XCTFail("no id in \(response.text)", file: file, line: line)
            return 0
        }
        return id
    }

    // MARK: creators, each with valid defaults

    @discardableResult
    func negotiation(slug: String = Fixtures.unique(), title: String = "US–China trade talks",
                     parties: String = #"["USA","CHN"]"#, extra: String = "") throws -> Int {
        try create("/v1/negotiations", #"{"slug":"\#(slug)","title":"\#(title)","parties":\#(parties)\#(extra)}"#)
    }

    @discardableResult
    func round(negotiation: Int, title: String = "Geneva talks", starts: String = "2025-05-10", ends: String = "2025-05-11",
               extra: String = "") throws -> Int {
        try create("/v1/rounds", #"""
            {"negotiation_id":\#(negotiation),"title":"\#(title)","city":"Geneva","country":"CHE",
             "starts_on":"\#(starts)","ends_on":"\#(ends)"\#(extra)}
            """#)
    }

    @discardableResult
    func participant(name: String = "Scott Bessent", country: String = "USA", extra: String = "") throws -> Int {
        try create("/v1/participants", #"{"name":"\#(name)","country":"\#(country)"\#(extra)}"#)
    }

    @discardableResult
    func issue(negotiation: Int, category: String = "tariffs", title: String = "Reciprocal tariffs", extra: String = "") throws -> Int {
        try create("/v1/issues", #"{"negotiation_id":\#(negotiation),"category":"\#(category)","title":"\#(title)"\#(extra)}"#)
    }

    @discardableResult
    func source(url: String? = nil, title: String = "Joint statement", extra: String = "") throws -> Int {
        let urlMember = url.map { #""url":"\#($0)","# } ?? ""
        return try create("/v1/sources", #"{\#(urlMember)"title":"\#(title)"\#(extra)}"#)
    }

    @discardableResult
    func statement(speaker: String = "A spokesperson", saidOn: String = "2025-05-12", extra: String = "") throws -> Int {
        try create("/v1/statements", #"{"speaker":"\#(speaker)","said_on":"\#(saidOn)","text":"Substantial progress"\#(extra)}"#)
    }

    @discardableResult
    func tariffMeasure(by: String = "USA", on: String = "CHN", rate: String = "10", from: String = "2025-04-05",
                       extra: String = "") throws -> Int {
        try create("/v1/tariff-measures",
                   #"{"imposed_by":"\#(by)","imposed_on":"\#(on)","rate_percent":\#(rate),"effective_from":"\#(from)"\#(extra)}"#)
    }

    /// Records attendance; returns the 201 response.
    @discardableResult
    func attend(round: Int, participant: Int, role: String = "lead", file: StaticString = #filePath, line: UInt = #line) throws -> TestResponse {
        let response = try post("/v1/rounds/\(round)/participants", #"{"participant_id":\#(participant),"role":"\#(role)"}"#)
        XCTAssertEqual(response.status, 201, response.text, file: file, line: line)
        return response
    }
}

/// One row of `change_log`, read straight from the database.
struct ChangeRow {
    var seq: Int64
    var action: String
    var actor: String?
    var requestID: String?
    var changes: JSONValue
}

extension TestApp {
    func changeRows(_ resource: String, _ id: Int) throws -> [ChangeRow] {
        try query("SELECT * FROM change_log WHERE resource = ? AND record_id = ? ORDER BY seq", [.text(resource), .integer(Int64(id))])
            .map { row in
                ChangeRow(seq: row.int("seq") ?? 0, action: row.text("action") ?? "", actor: row.text("actor"),
                          requestID: row.text("request_id"),
                          changes: try JSONParser.parse(Array((row.text("changes") ?? "null").utf8)))
            }
    }

    func count(_ table: String) throws -> Int64 {
        try query("SELECT count(*) AS n FROM \(table)").first?.int("n") ?? -1
    }
}

extension JSONValue {
    /// The member names of an object, in order.
    var keys: [String] { objectValue?.map(\.0) ?? [] }

    /// `{"before": b, "after": a}` as the change log writes it.
    static func change(_ before: JSONValue, _ after: JSONValue) -> JSONValue {
        .object([("before", before), ("after", after)])
    }
}

/// Problem assertions shared by the resource tests.
enum Problems {
    /// A 422 `validation_failed` problem whose `errors[].pointer` are exactly `pointers` (in any order).
    static func assertValidation(_ response: TestResponse, _ pointers: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, 422, response.text, file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/problem+json", file: file, line: line)
        guard let json = try? response.json() else { return XCTFail("not JSON: \(response.text)", file: file, line: line) }
        XCTAssertEqual(json["code"], .string("validation_failed"), file: file, line: line)
        XCTAssertEqual(json["type"], .string("/problems/validation"), file: file, line: line)
        let found = (json["errors"]?.arrayValue ?? []).compactMap { $0["pointer"]?.stringValue }
        XCTAssertEqual(found.sorted(), pointers.sorted(), response.text, file: file, line: line)
        XCTAssertEqual(json["detail"], .string(pointers.count == 1 ? "1 field is invalid" : "\(pointers.count) fields are invalid"),
                       file: file, line: line)
        for error in json["errors"]?.arrayValue ?? [] {
            XCTAssertFalse((error["message"]?.stringValue ?? "").isEmpty, "every error has a message", file: file, line: line)
        }
    }

    /// A problem with `status` and `code`.
    @discardableResult
    static func assertProblem(_ response: TestResponse, status: Int, code: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue? {
        XCTAssertEqual(response.status, status, response.text, file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/problem+json", file: file, line: line)
        let json = try? response.json()
        XCTAssertEqual(json?["code"], .string(code), response.text, file: file, line: line)
        XCTAssertEqual(json?["status"], .int(status), file: file, line: line)
        return json
    }

    /// The message the server gave for `pointer`.
    static func message(_ response: TestResponse, _ pointer: String) -> String? {
        (try? response.json())?["errors"]?.arrayValue?.first { $0["pointer"]?.stringValue == pointer }?["message"]?.stringValue
    }
}

/// Checks shared by every resource's create/read/update/delete tests.
enum Lifecycle {
    /// A 201 with `Location` = collection/id, an `ETag`, JSON content, and the full record with exactly `fields`
    /// (in order) between `id` and the record columns; version 1; created_at = updated_at. Returns the body.
    @discardableResult
    static func assertCreated(_ response: TestResponse, collection: String, fields: [String],
                              file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        XCTAssertEqual(response.status, 201, response.text, file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/json; charset=utf-8", file: file, line: line)
        let json = try response.json()
        let id = try XCTUnwrap(json["id"]?.intValue, response.text, file: file, line: line)
        XCTAssertGreaterThanOrEqual(id, 1, file: file, line: line)
        XCTAssertEqual(response.headers["Location"], "\(collection)/\(id)", file: file, line: line)
        let etag = try XCTUnwrap(response.headers["ETag"], "201 carries an ETag", file: file, line: line)
        XCTAssertTrue(etag.hasPrefix("\"") && etag.hasSuffix("\""), "strong ETag: \(etag)", file: file, line: line)
        XCTAssertEqual(json.keys, ["id"] + fields + ["created_at", "updated_at", "version"], file: file, line: line)
        XCTAssertEqual(json["version"], .int(1), file: file, line: line)
        XCTAssertTrue(Fixtures.isTimestamp(json["created_at"]?.stringValue), "\(json["created_at"] ?? .null)", file: file, line: line)
        XCTAssertEqual(json["created_at"], json["updated_at"], file: file, line: line)
        return json
    }

    /// GET of `path` is 200 with `body` and the given ETag.
    static func assertReads(_ api: ResourceAPI, _ path: String, body: [UInt8], etag: String?,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let response = try api.get(path)
        XCTAssertEqual(response.status, 200, response.text, file: file, line: line)
        XCTAssertEqual(response.text, String(decoding: body, as: UTF8.self), file: file, line: line)
        if let etag { XCTAssertEqual(response.headers["ETag"], etag, file: file, line: line) }
    }

    /// DELETE → 204 with no body; then GET → 404 `not_found`; DELETE again → 404.
    static func assertDeletes(_ api: ResourceAPI, _ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let deleted = try api.delete(path)
        XCTAssertEqual(deleted.status, 204, deleted.text, file: file, line: line)
        XCTAssertTrue(deleted.body.isEmpty, file: file, line: line)
        Problems.assertProblem(try api.get(path), status: 404, code: "not_found", file: file, line: line)
        Problems.assertProblem(try api.delete(path), status: 404, code: "not_found", file: file, line: line)
    }

    /// Waits long enough that the next write gets a later millisecond timestamp.
    static func tick() { usleep(5_000) }
}
