import Foundation
import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// `--log-format json`: one JSON object per request with the fields API.md §5 lists, never a token or a body.
final class AccessLogTests: XCTestCase {
    func testJSONLinesCarryTheFieldsAndNeverATokenOrABody() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logFile = directory.appendingPathComponent("access.log")
        XCTAssertTrue(FileManager.default.createFile(atPath: logFile.path, contents: nil))
        let handle = try FileHandle(forWritingTo: logFile)
        var configuration = TestApp.configuration(directory: directory) { $0.tokens = Fixtures.tokens }
        configuration.accessLog = true
        configuration.logFormat = "json"
        let app = try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .info, fd: handle.fileDescriptor))
        try app.start()
        let client = TestClient(port: app.port)
        let secretTitle = "a body that must never be logged"
        let created = try client.request("POST", "/v1/sources", json: #"{"title":"\#(secretTitle)"}"#,
                                         headers: [("Authorization", "Bearer \(Fixtures.writeToken)"), ("X-Request-ID", "log-check-1")])
        XCTAssertEqual(created.status, 201)
        XCTAssertEqual(try client.request("GET", "/v1/rounds/77").status, 404)
        app.shutdown()
        try handle.close()
        let text = try String(contentsOf: logFile, encoding: .utf8)
        XCTAssertFalse(text.contains(Fixtures.writeToken), "no token in the log")
        XCTAssertFalse(text.contains(secretTitle), "no body in the log")
        let lines: [JSONValue] = text.split(separator: "\n").filter { $0.hasPrefix("{") }.compactMap { try? JSONParser.parse(Array($0.utf8)) }
        let post = try XCTUnwrap(lines.first { $0["request_id"] == .string("log-check-1") })
        XCTAssertEqual(post.keys, ["time", "request_id", "method", "route", "path", "status", "bytes", "duration_ms", "client", "token_name"])
        XCTAssertEqual(post["method"], .string("POST"))
        XCTAssertEqual(post["route"], .string("/v1/sources"))
        XCTAssertEqual(post["status"], .int(201), "a write is logged when its commit answers")
        XCTAssertEqual(post["bytes"], .int(created.body.count))
        XCTAssertEqual(post["client"], .string("127.0.0.1"))
        XCTAssertEqual(post["token_name"], .string("writer"))
        XCTAssertTrue(Fixtures.isTimestamp(post["time"]?.stringValue))
        let missing = try XCTUnwrap(lines.first { $0["path"] == .string("/v1/rounds/77") })
        XCTAssertEqual(missing["route"], .string("/v1/rounds/{id}"))
        XCTAssertEqual(missing["status"], .int(404))
        XCTAssertEqual(missing["token_name"], .null)
    }
}
