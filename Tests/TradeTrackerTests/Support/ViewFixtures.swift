import JSON
import Foundation
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// A clock a test can move: `TimeSource.fixed` cannot pass a day.
final class MovableClock: @unchecked Sendable {
    // `milliseconds` is only touched while `lock` is held.
    private let lock = NSLock()
    private var milliseconds: Int64

    init(_ text: String) { milliseconds = Timestamp.parse(text)! }

    var clock: TimeSource { TimeSource { [self] in lock.withLock { milliseconds } } }

    func advance(days: Int) { lock.withLock { milliseconds += Int64(days) * 86_400_000 } }
}

/// The real app over a socket with the demo data and a writer token, on the clock the test gives
/// (TestApp always runs on the system clock).
final class ViewApp {
    static let writeToken = "writer-token-0123456789"

    let directory: URL
    let app: TradeTrackerApp
    let client: TestClient

    init(clock: TimeSource = .system) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-views-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configuration = TestApp.configuration(directory: directory) {
            $0.loadDemoData = true
            $0.demoFile = TestApp.packageRoot.appendingPathComponent("demo/us-china-2025.json").path
            $0.tokens = "writer:write:\(Self.writeToken)"
        }
        app = try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .error), clock: clock)
        try app.start()
        client = TestClient(port: app.port)
    }

    func stop() {
        app.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    func get(_ path: String, headers: [(String, String)] = []) throws -> TestResponse {
        try client.request("GET", path, headers: headers)
    }

    /// GET that must answer 200; returns the body as JSON.
    func json(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        let response = try get(path)
        XCTAssertEqual(response.status, 200, "GET \(path): \(response.text)", file: file, line: line)
        return try response.json()
    }

    func send(_ method: String, _ path: String, _ json: String? = nil) throws -> TestResponse {
        let auth = [("Authorization", "Bearer \(Self.writeToken)")]
        if let json { return try client.request(method, path, json: json, headers: auth) }
        return try client.request(method, path, headers: auth)
    }

    /// POSTs and returns the new id; fails the test unless the answer is 201.
    @discardableResult
    func create(_ path: String, _ json: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let response = try send("POST", path, json)
        XCTAssertEqual(response.status, 201, "POST \(path) \(json): \(response.text)", file: file, line: line)
        return try XCTUnwrap(try response.json()["id"]?.intValue, file: file, line: line)
    }

    /// A tariff measure between a pair of the test's own (no demo measure is between them).
    @discardableResult
    func measure(_ by: String, _ on: String, _ rate: String, from: String, until: String? = nil, extra: String = "",
                 file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let end = until.map { #","effective_until":"\#($0)""# } ?? ""
        return try create("/v1/tariff-measures", #"""
            {"imposed_by":"\#(by)","imposed_on":"\#(on)","rate_percent":\#(rate),"effective_from":"\#(from)"\#(end)\#(extra)}
            """#, file: file, line: line)
    }

    /// Reads the database directly, to compare with what the API says.
    func scalar(_ sql: String) throws -> Int64 {
        let connection = try SQLiteConnection(path: app.configuration.databasePath, flags: [.readOnly])
        defer { connection.close() }
        if case .integer(let n)? = try connection.scalar(sql) { return n }
        return -1
    }
}

extension JSONValue {
    /// `data[].member` of a list or series body.
    func column(_ member: String) -> [JSONValue] { (self["data"]?.arrayValue ?? []).map { $0[member] ?? .null } }
}
