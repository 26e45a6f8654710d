import JSON
import Foundation
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// Tokens and a small request vocabulary shared by the cross-cutting convention tests.
enum ConventionTokens {
    static let writer = "writer-token-0123456789"
    static let reader = "reader-token-0123456789"
    static let otherWriter = "other-writer-token-0123456789"
    static let standard = "writer:write:\(writer),reader:read:\(reader)"
}

/// A running app plus one kept-alive client that sends the writer token on writes by default.
final class ConventionAPI {
    let app: TestApp
    let client: TestClient

    init(_ configure: (inout AppConfiguration) -> Void = { _ in }) throws {
        app = try TestApp { config in
            config.tokens = ConventionTokens.standard
            configure(&config)
        }
        client = app.client()
    }

    func stop() { app.stop() }

    static func auth(_ token: String?) -> [(String, String)] {
        token.map { [("Authorization", "Bearer \($0)")] } ?? []
    }

    func get(_ path: String, token: String? = nil, headers: [(String, String)] = []) throws -> TestResponse {
        try client.request("GET", path, headers: Self.auth(token) + headers)
    }

    func head(_ path: String, headers: [(String, String)] = []) throws -> TestResponse {
        try client.request("HEAD", path, headers: headers)
    }

    /// A JSON write (Content-Type application/json) with the writer token unless told otherwise.
    func send(_ method: String, _ path: String, _ json: String, token: String? = ConventionTokens.writer,
              headers: [(String, String)] = []) throws -> TestResponse {
        try client.request(method, path, json: json, headers: Self.auth(token) + headers)
    }

    func delete(_ path: String, token: String? = ConventionTokens.writer, headers: [(String, String)] = []) throws -> TestResponse {
        try client.request("DELETE", path, headers: Self.auth(token) + headers)
    }

    /// POSTs and returns the new id; fails the test unless the answer is 201.
    @discardableResult
    func create(_ path: String, _ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let response = try send("POST", path, json)
        XCTAssertEqual(response.status, 201, "POST \(path) \(json): \(response.text)", file: file, line: line)
        return try XCTUnwrap(try response.json()["id"]?.intValue, file: file, line: line)
    }

    func createNegotiation(slug: String, title: String? = nil, startedOn: String? = nil, status: String? = nil) throws -> Int {
        var members = [#""slug":"\#(slug)""#, #""title":"\#(title ?? "Talks \(slug)")""#, #""parties":["USA","CHN"]"#]
        if let startedOn { members.append(#""started_on":"\#(startedOn)""#) }
        if let status { members.append(#""status":"\#(status)""#) }
        return try create("/v1/negotiations", "{" + members.joined(separator: ",") + "}")
    }

    func createRound(negotiationID: Int, title: String, city: String = "Geneva", country: String = "CHE",
                     startsOn: String, endsOn: String? = nil, status: String = "concluded") throws -> Int {
        try create("/v1/rounds", """
            {"negotiation_id":\(negotiationID),"title":"\(title)","city":"\(city)","country":"\(country)",\
            "starts_on":"\(startsOn)","ends_on":"\(endsOn ?? startsOn)","status":"\(status)"}
            """)
    }

    func createSource(title: String) throws -> Int {
        try create("/v1/sources", #"{"title":"\#(title)"}"#)
    }

    func count(_ table: String, where condition: String = "TRUE") throws -> Int {
        Int(try app.query("SELECT count(*) AS n FROM \(table) WHERE \(condition)")[0].int("n") ?? -1)
    }

    /// Every page of a list, following `next_cursor` alone; returns the ids in the order served.
    func walk(_ firstPath: String, basePath: String, limit: Int? = nil, maxPages: Int = 200,
              file: StaticString = #filePath, line: UInt = #line) throws -> [Int] {
        var ids: [Int] = []
        var response = try get(firstPath)
        for _ in 0..<maxPages {
            XCTAssertEqual(response.status, 200, response.text, file: file, line: line)
            ids += try response.ids()
            guard let cursor = try response.nextCursor() else { return ids }
            response = try get(basePath + "?cursor=" + cursor + (limit.map { "&limit=\($0)" } ?? ""))
        }
        XCTFail("more than \(maxPages) pages", file: file, line: line)
        return ids
    }
}

extension TestResponse {
    /// The `data` array of a list envelope.
    func data() throws -> [JSONValue] {
        try XCTUnwrap(try json()["data"]?.arrayValue, "no data array in \(text)")
    }

    func ids() throws -> [Int] {
        try data().map { try XCTUnwrap($0["id"]?.intValue) }
    }

    /// `next_cursor`: a string, or nil when it is JSON null; fails when the member is missing.
    func nextCursor() throws -> String? {
        let value = try XCTUnwrap(try json()["next_cursor"], "no next_cursor member in \(text)")
        if value.isNull { return nil }
        return try XCTUnwrap(value.stringValue, "next_cursor is neither null nor a string")
    }

    var problemCode: String? { (try? json())?["code"]?.stringValue }

    var firstPointer: String? { (try? json())?["errors"]?.arrayValue?.first?["pointer"]?.stringValue }

    func strings(_ field: String) throws -> [String] {
        try data().map { $0[field]?.stringValue ?? "<none>" }
    }
}

/// Asserts a 400 `invalid_parameter` that names `parameter` in `errors[0].pointer` as `?parameter`.
func assertBadParameter(_ response: TestResponse, _ parameter: String, _ message: String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(response.status, 400, "\(message): \(response.text)", file: file, line: line)
    XCTAssertEqual(response.problemCode, "invalid_parameter", message, file: file, line: line)
    XCTAssertEqual(response.firstPointer, "?\(parameter)", message, file: file, line: line)
    XCTAssertEqual(response.headers["Content-Type"], "application/problem+json", message, file: file, line: line)
}

/// Collects values from several threads.
final class ConcurrentResults<T>: @unchecked Sendable {
    // `items` is only touched while `lock` is held.
    private let lock = NSLock()
    private var items: [T] = []

    func append(_ item: T) {
        lock.lock(); defer { lock.unlock() }
        items.append(item)
    }

    var all: [T] {
        lock.lock(); defer { lock.unlock() }
        return items
    }
}
