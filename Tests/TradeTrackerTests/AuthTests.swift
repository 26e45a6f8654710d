import JSON
import XCTest
import Foundation
import HTTPServer
@testable import TradeTracker

/// API.md §1 "Auth": bearer tokens, scopes, 401 vs 403, reads open by default, tokens file mode, no tokens in logs.
final class AuthTests: XCTestCase {
    var api: ConventionAPI?
    var directories: [URL] = []

    override func tearDown() {
        api?.stop()
        for directory in directories { try? FileManager.default.removeItem(at: directory) }
    }

    private func start(_ configure: @escaping (inout AppConfiguration) -> Void = { _ in }) throws -> ConventionAPI {
        let started = try ConventionAPI(configure)
        api = started
        return started
    }

    private func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        directories.append(directory)
        return directory
    }

    private func assert401(_ response: TestResponse, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, 401, response.text, file: file, line: line)
        XCTAssertEqual(response.problemCode, "unauthorized", file: file, line: line)
        XCTAssertTrue(response.headers["WWW-Authenticate"]?.hasPrefix("Bearer") ?? false,
                      "WWW-Authenticate: \(response.headers["WWW-Authenticate"] ?? "none")", file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/problem+json", file: file, line: line)
    }

    func testReadsAreOpenAndWritesNeedAWriteToken() throws {
        let api = try start()
        let id = try api.createSource(title: "existing")
        XCTAssertEqual(try api.get("/v1/sources").status, 200, "reads are open by default")
        XCTAssertEqual(try api.get("/v1/sources/\(id)").status, 200)

        assert401(try api.send("POST", "/v1/sources", #"{"title":"anonymous"}"#, token: nil))
        assert401(try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"anonymous"}"#, token: nil))
        assert401(try api.delete("/v1/sources/\(id)", token: nil))

        let forbidden = try api.send("POST", "/v1/sources", #"{"title":"reader"}"#, token: ConventionTokens.reader)
        XCTAssertEqual(forbidden.status, 403)
        XCTAssertEqual(forbidden.problemCode, "forbidden")
        XCTAssertEqual(try api.send("PATCH", "/v1/sources/\(id)", #"{"title":"reader"}"#, token: ConventionTokens.reader).status, 403)
        XCTAssertEqual(try api.delete("/v1/sources/\(id)", token: ConventionTokens.reader).status, 403)
        XCTAssertEqual(try api.count("sources"), 1)
        XCTAssertEqual(try api.count("sources", where: "title = 'existing' AND version = 1"), 1, "nothing changed")

        let created = try api.send("POST", "/v1/sources", #"{"title":"writer"}"#, token: ConventionTokens.writer)
        XCTAssertEqual(created.status, 201)
        let newID = try XCTUnwrap(try created.json()["id"]?.intValue)
        let actor = try api.app.query("SELECT actor FROM change_log WHERE resource = 'sources' AND record_id = ?",
                                      [.integer(Int64(newID))])
        XCTAssertEqual(actor.first?.text("actor"), "writer", "the change row names the token, not the secret")
        XCTAssertEqual(try api.delete("/v1/sources/\(newID)").status, 204)
    }

    func testBadTokenIs401EvenOnReads() throws {
        let api = try start()
        for header in ["Bearer wrong-token-0123456789", "Bearer \(ConventionTokens.writer)x", "Bearer " + ConventionTokens.writer.dropLast(),
                       "Basic d3JpdGVyOnNlY3JldA==", "Bearer", "\(ConventionTokens.writer)"] {
            assert401(try api.get("/v1/sources", headers: [("Authorization", header)]))
            assert401(try api.client.request("POST", "/v1/sources", json: #"{"title":"x"}"#, headers: [("Authorization", header)]))
        }
        XCTAssertEqual(try api.count("sources"), 0)
        // The scheme is case-insensitive (RFC 9110 §11.1).
        let lower = try api.client.request("POST", "/v1/sources", json: #"{"title":"x"}"#,
                                           headers: [("Authorization", "bearer \(ConventionTokens.writer)")])
        XCTAssertEqual(lower.status, 201)
        XCTAssertEqual(try api.get("/v1/sources", token: ConventionTokens.reader).status, 200, "a valid read token on a read")
    }

    func testRequireAuthForReads() throws {
        let api = try start { $0.requireAuthForReads = true }
        assert401(try api.get("/v1/sources"))
        assert401(try api.get("/v1/negotiations/by-slug/anything"))
        XCTAssertEqual(try api.head("/v1/sources").status, 401)
        XCTAssertEqual(try api.get("/v1/sources", token: ConventionTokens.reader).status, 200)
        XCTAssertEqual(try api.get("/v1/sources", token: ConventionTokens.writer).status, 200, "write implies read")
        XCTAssertEqual(try api.get("/healthz").status, 200, "operations endpoints stay open for probes")
        XCTAssertEqual(try api.send("POST", "/v1/sources", #"{"title":"x"}"#, token: ConventionTokens.reader).status, 403)
    }

    func testServerWithoutTokensServesReadsAndRefusesWrites() throws {
        let api = try start { $0.tokens = nil; $0.tokensFile = nil }
        XCTAssertEqual(try api.get("/v1/sources").status, 200)
        let refused = try api.send("POST", "/v1/sources", #"{"title":"x"}"#, token: nil)
        assert401(refused)
        XCTAssertTrue((try refused.json()["detail"]?.stringValue ?? "").contains("without tokens"), refused.text)
        assert401(try api.send("POST", "/v1/sources", #"{"title":"x"}"#, token: ConventionTokens.writer))
        XCTAssertEqual(try api.count("sources"), 0)
    }

    func testAdminTokenCanWrite() throws {
        let api = try start { $0.tokens = "boss:admin:admin-token-0123456789" }
        XCTAssertEqual(try api.send("POST", "/v1/sources", #"{"title":"x"}"#, token: "admin-token-0123456789").status, 201)
    }

    func testTokensFileReadableByOthersRefusesToStart() throws {
        let directory = try temporaryDirectory()
        let file = directory.appendingPathComponent("tokens").path
        try "# name scope token\nfilewriter write file-writer-token-0123456789\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(file, 0o644), 0)
        var configuration = TestApp.configuration(directory: directory) { $0.tokensFile = file }
        XCTAssertThrowsError(try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .error))) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("chmod"), text)
            XCTAssertTrue(text.contains(file), text)
        }
        XCTAssertEqual(chmod(file, 0o640), 0)
        XCTAssertThrowsError(try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .error)), "group-readable")

        XCTAssertEqual(chmod(file, 0o600), 0)
        configuration = TestApp.configuration(directory: directory) { $0.tokensFile = file }
        let app = try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .error))
        try app.start()
        defer { app.shutdown() }
        let client = TestClient(port: app.port)
        let ok = try client.request("POST", "/v1/sources", json: #"{"title":"x"}"#,
                                    headers: [("Authorization", "Bearer file-writer-token-0123456789")])
        XCTAssertEqual(ok.status, 201)
        XCTAssertEqual(try client.request("POST", "/v1/sources", json: #"{"title":"x"}"#).status, 401)
    }

    func testTokensNeverAppearInTheAccessLog() throws {
        let directory = try temporaryDirectory()
        let logPath = directory.appendingPathComponent("access.log").path
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let logger = Logger(minimumLevel: .info, fd: fd)
        let configuration = TestApp.configuration(directory: directory) {
            $0.accessLog = true
            $0.tokens = ConventionTokens.standard
        }
        let app = try TradeTrackerApp(configuration: configuration, logger: logger)
        try app.start()
        let client = TestClient(port: app.port)
        let created = try client.request("POST", "/v1/sources", json: #"{"title":"logged"}"#,
                                         headers: [("Authorization", "Bearer \(ConventionTokens.writer)")])
        XCTAssertEqual(created.status, 201)
        XCTAssertEqual(try client.request("GET", "/v1/sources", headers: [("Authorization", "Bearer \(ConventionTokens.reader)")]).status, 200)
        let badSecret = "not-a-real-token-but-secret-987654"
        XCTAssertEqual(try client.request("GET", "/v1/sources", headers: [("Authorization", "Bearer \(badSecret)")]).status, 401)
        XCTAssertEqual(try client.request("POST", "/v1/sources", json: #"{"title":"x"}"#,
                                          headers: [("Authorization", "Bearer \(ConventionTokens.reader)")]).status, 403)
        app.shutdown()
        logger.flush()
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        XCTAssertTrue(log.contains("POST /v1/sources 201"), "the access log is on: \(log)")
        XCTAssertTrue(log.contains("GET /v1/sources 401"), log)
        XCTAssertTrue(log.contains("POST /v1/sources 403"), log)
        for secret in [ConventionTokens.writer, ConventionTokens.reader, badSecret] {
            XCTAssertFalse(log.contains(secret), "the log holds \(secret):\n\(log)")
        }
    }
}
