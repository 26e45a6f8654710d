import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// API.md §1 media types and "malformed JSON": 415, 400 `malformed_json`, 413.
final class RequestBodyTests: XCTestCase {
    var api: ConventionAPI!

    override func tearDown() { api?.stop() }

    private func start(_ configure: @escaping (inout AppConfiguration) -> Void = { _ in }) throws {
        api = try ConventionAPI(configure)
    }

    private func raw(_ method: String, _ path: String, contentType: String?, body: [UInt8]) throws -> TestResponse {
        var headers = ConventionAPI.auth(ConventionTokens.writer)
        if let contentType { headers.append(("Content-Type", contentType)) }
        return try api.client.request(method, path, headers: headers, body: body)
    }

    private func assertMalformed(_ body: [UInt8], _ message: String, method: String = "POST", path: String = "/v1/sources",
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let response = try raw(method, path, contentType: "application/json", body: body)
        XCTAssertEqual(response.status, 400, "\(message): \(response.text)", file: file, line: line)
        XCTAssertEqual(response.problemCode, "malformed_json", message, file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/problem+json", message, file: file, line: line)
    }

    func testWrongOrMissingContentTypeIs415() throws {
        try start()
        let body = Array(#"{"title":"x"}"#.utf8)
        for type in ["text/plain", "application/x-www-form-urlencoded", "application/merge-patch+json", "application/jsonx",
                     "application/json; charset=latin1"] {
            let response = try raw("POST", "/v1/sources", contentType: type, body: body)
            XCTAssertEqual(response.status, 415, type)
            XCTAssertEqual(response.problemCode, "unsupported_media_type", type)
        }
        XCTAssertEqual(try raw("POST", "/v1/sources", contentType: nil, body: body).status, 415, "no Content-Type")
        XCTAssertEqual(try api.count("sources"), 0)
        XCTAssertEqual(try raw("POST", "/v1/sources", contentType: "application/json; charset=utf-8", body: body).status, 201)
        XCTAssertEqual(try raw("POST", "/v1/sources", contentType: "Application/JSON", body: body).status, 201,
                       "media types are case-insensitive")
    }

    func testMergePatchIsAcceptedForPatchOnly() throws {
        try start()
        let id = try api.createSource(title: "x")
        let patched = try raw("PATCH", "/v1/sources/\(id)", contentType: "application/merge-patch+json",
                              body: Array(#"{"title":"y","publisher":"AP"}"#.utf8))
        XCTAssertEqual(patched.status, 200, patched.text)
        XCTAssertEqual(try patched.json()["title"], .string("y"))
        let cleared = try raw("PATCH", "/v1/sources/\(id)", contentType: "application/merge-patch+json",
                              body: Array(#"{"publisher":null}"#.utf8))
        XCTAssertEqual(try cleared.json()["publisher"], .null, "null clears (RFC 7396)")
        XCTAssertEqual(try raw("PATCH", "/v1/sources/\(id)", contentType: "application/json", body: Array(#"{"title":"z"}"#.utf8)).status, 200)
        XCTAssertEqual(try raw("PATCH", "/v1/sources/\(id)", contentType: "text/plain", body: Array(#"{"title":"w"}"#.utf8)).status, 415)
        XCTAssertEqual(try raw("PATCH", "/v1/sources/\(id)", contentType: nil, body: Array(#"{"title":"w"}"#.utf8)).status, 415)
        XCTAssertEqual(try api.count("sources", where: "title = 'z'"), 1)
    }

    func testSyntaxErrorsAre400MalformedJSON() throws {
        try start()
        try assertMalformed(Array(#"{"title":"#.utf8), "truncated")
        try assertMalformed(Array(#"{"title":"x",}"#.utf8), "trailing comma")
        try assertMalformed(Array(#"{title:"x"}"#.utf8), "unquoted key")
        try assertMalformed(Array(#"{"title":'x'}"#.utf8), "single quotes")
        try assertMalformed(Array(#"{"title":"x"} {}"#.utf8), "two documents")
        try assertMalformed(Array("{\"title\":\"a\u{1}b\"}".utf8), "raw control character in a string")
        try assertMalformed(Array(#"{"title":"\ud800"}"#.utf8), "lone surrogate")
        try assertMalformed(Array(#"{"title":"a","title":"b"}"#.utf8), "duplicate key")
        try assertMalformed(Array(#"{"title":"a","publisher":{"x":1,"x":2}}"#.utf8), "duplicate key in a nested object")
        XCTAssertEqual(try api.count("sources"), 0)
    }

    func testInvalidUTF8AnywhereIs400() throws {
        try start()
        try assertMalformed(Array(#"{"title":""#.utf8) + [0xFF] + Array(#""}"#.utf8), "invalid byte inside a string")
        try assertMalformed(Array(#"{"title":"ok","no"#.utf8) + [0xC3, 0x28] + Array(#"te":"x"}"#.utf8),
                            "invalid sequence inside an unknown field's name")
        try assertMalformed(Array(#"{"title":"ok","note":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8),
                            "encoded surrogate inside an unknown field's value")
        try assertMalformed(Array(#"{"title":"ok","note":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8), "overlong encoding")
        let id = try api.createSource(title: "x")
        try assertMalformed(Array(#"{"title":""#.utf8) + [0xFE] + Array(#""}"#.utf8), "on PATCH too", method: "PATCH",
                            path: "/v1/sources/\(id)")
        // Valid UTF-8 is fine, and an unknown field is a 422 (not a 400).
        let accented = try raw("POST", "/v1/sources", contentType: "application/json", body: Array(#"{"title":"Zürich — 中国"}"#.utf8))
        XCTAssertEqual(accented.status, 201)
        XCTAssertEqual(try accented.json()["title"], .string("Zürich — 中国"))
        let unknown = try raw("POST", "/v1/sources", contentType: "application/json", body: Array(#"{"title":"ok","note":"x"}"#.utf8))
        XCTAssertEqual(unknown.status, 422)
        XCTAssertEqual(unknown.firstPointer, "/note")
    }

    func testNestingDepth() throws {
        try start()
        func nested(_ levels: Int) -> [UInt8] {
            // The body object is level 1; `extra` holds levels - 1 nested arrays.
            Array(("{\"title\":\"x\",\"extra\":" + String(repeating: "[", count: levels - 1)
                   + String(repeating: "]", count: levels - 1) + "}").utf8)
        }
        let sixtyFour = try raw("POST", "/v1/sources", contentType: "application/json", body: nested(64))
        XCTAssertEqual(sixtyFour.status, 422, "64 levels parse; the unknown field then fails validation: \(sixtyFour.text)")
        XCTAssertEqual(sixtyFour.firstPointer, "/extra")
        try assertMalformed(nested(65), "65 levels")
        try assertMalformed(Array((String(repeating: "[", count: 100_000)).utf8), "very deep, no stack overflow")
        XCTAssertEqual(try api.get("/healthz").status, 200)
    }

    func testBodiesThatAreNotObjectsOrEmptyAre400() throws {
        try start()
        for body in [#"[{"title":"x"}]"#, #""x""#, "42", "null", "true", " "] {
            try assertMalformed(Array(body.utf8), "body \(body)")
        }
        try assertMalformed([], "empty body")
        XCTAssertEqual(try api.count("sources"), 0)
    }

    func testBodyOverTheLimitIs413() throws {
        try start { $0.server.limits.maxBodyBytes = 2048 }
        let padding = { (n: Int) in Array((#"{"title":""# + String(repeating: "a", count: n - 12) + #""}"#).utf8) }
        let atLimit = try raw("POST", "/v1/sources", contentType: "application/json", body: padding(2048))
        XCTAssertEqual(atLimit.status, 422, "2048 bytes are read (title too long, 422): \(atLimit.text)")
        let over = try raw("POST", "/v1/sources", contentType: "application/json", body: padding(2049))
        XCTAssertEqual(over.status, 413)
        XCTAssertEqual(try api.count("sources"), 0)
    }

    func testDefaultLimitIsDecidedFromContentLength() throws {
        try start()
        let client = api.client
        try client.sendRaw(Array(("POST /v1/sources HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(ConventionTokens.writer)\r\n"
                                  + "Content-Type: application/json\r\nContent-Length: 1048577\r\n\r\n").utf8))
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 413, "answered before any body byte is sent")
        XCTAssertEqual(response.problemCode, "payload_too_large")
        XCTAssertEqual(try api.count("sources"), 0)
    }
}
