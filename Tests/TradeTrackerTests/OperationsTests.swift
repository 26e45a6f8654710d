import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

final class OperationsTests: XCTestCase {
    var app: TestApp!

    override func setUpWithError() throws { app = try TestApp() }
    override func tearDown() { app.stop() }

    func testHealthzAnswersOKWithCommonHeaders() throws {
        let response = try app.client().request("GET", "/healthz")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, #"{"status":"ok"}"#)
        XCTAssertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")
        XCTAssertEqual(response.headers["X-Content-Type-Options"], "nosniff")
        XCTAssertNotNil(response.headers["Date"])
        XCTAssertFalse(response.headers["X-Request-ID"]?.isEmpty ?? true)
        XCTAssertNil(response.headers["Server"], "no response names the server or its version")
    }

    func testRequestIDIsEchoedWhenValidAndReplacedWhenNot() throws {
        let client = app.client()
        let echoed = try client.request("GET", "/healthz", headers: [("X-Request-ID", "abc.DEF_123-x")])
        XCTAssertEqual(echoed.headers["X-Request-ID"], "abc.DEF_123-x")
        let tooLong = String(repeating: "a", count: 129)
        let replaced = try client.request("GET", "/healthz", headers: [("X-Request-ID", tooLong)])
        XCTAssertNotEqual(replaced.headers["X-Request-ID"], tooLong)
        let bad = try client.request("GET", "/healthz", headers: [("X-Request-ID", "has/slash")])
        XCTAssertNotEqual(bad.headers["X-Request-ID"], "has/slash")
        XCTAssertTrue(RequestID.isAcceptable(bad.headers["X-Request-ID"] ?? ""))
    }

    func testReadyzReportsReadyWithItsChecks() throws {
        let response = try app.client().request("GET", "/readyz")
        XCTAssertEqual(response.status, 200)
        let json = try response.json()
        XCTAssertEqual(json["status"], .string("ready"))
        XCTAssertEqual(json["checks"]?["migrations_applied"], .bool(true))
        XCTAssertEqual(json["checks"]?["database_writable"], .bool(true))
    }

    func testReadyzIs503WhenTheDatabaseIsClosed() throws {
        app.app.database.close()
        let response = try app.client().request("GET", "/readyz")
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(try response.json()["status"], .string("not_ready"))
        XCTAssertEqual(response.headers["Retry-After"], "5")
    }

    func testReadyzIs503WhileShuttingDown() throws {
        var router = Router()
        let shuttingDown = ShutdownFlagForTest()
        let database = app.app.database, writes = app.app.writes
        OperationsRoutes(readiness: { database.readiness(writeProbe: { writes.probe() }) }, openAPIDocument: [],
                         isShuttingDown: { shuttingDown.value }).register(on: &router)
        let responder = Responder(router: router, renderer: ProblemRenderer(logger: Logger(minimumLevel: .error)))
        XCTAssertEqual(responder.respond(to: HTTPRequest(method: "GET", target: "/readyz")).status, 200)
        shuttingDown.value = true
        let response = responder.respond(to: HTTPRequest(method: "GET", target: "/readyz"))
        XCTAssertEqual(response.status, 503)
        let json = try JSONParser.parse(response.body)
        XCTAssertEqual(json["status"], .string("not_ready"))
        XCTAssertEqual(json["checks"]?["shutting_down"], .bool(true))
        XCTAssertEqual(json["checks"]?["database_writable"], .bool(true), "only the shutdown makes it unready")
        XCTAssertEqual(response.headers["Retry-After"], "5")
    }

    func testProbesAreAnsweredWhenEveryConnectionSlotIsTaken() throws {
        app.stop()
        app = try TestApp { $0.server.maxConnections = 2 }
        let held = [app.client(), app.client()]
        for client in held { XCTAssertEqual(try client.request("GET", "/v1/status").status, 200) }
        XCTAssertEqual(try app.client().request("GET", "/healthz").status, 200, "liveness holds under a connection flood")
        XCTAssertEqual(try app.client().request("GET", "/readyz").status, 200)
        let other = try app.client().request("GET", "/v1/status")
        XCTAssertEqual(other.status, 503)
        XCTAssertEqual(try other.json()["code"], .string("service_unavailable"))
    }

    func testOpenAPIDocumentIsServedFromTheProjectFile() throws {
        let response = try app.client().request("GET", "/openapi.yaml")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Type"], "application/yaml; charset=utf-8")
        let file = try Data(contentsOf: TestApp.packageRoot.appendingPathComponent("openapi.yaml"))
        XCTAssertEqual(response.body, Array(file))
    }

    func testUnknownPathIsProblemJSON404() throws {
        let response = try app.client().request("GET", "/v1/nothing-here")
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response.headers["Content-Type"], "application/problem+json")
        let json = try response.json()
        XCTAssertEqual(json["code"], .string("not_found"))
        XCTAssertEqual(json["type"], .string("/problems/not-found"))
        XCTAssertEqual(json["instance"], .string("/v1/nothing-here"))
        XCTAssertEqual(json["request_id"], .string(response.headers["X-Request-ID"] ?? "-"))
    }

    func testWrongMethodIs405WithAllow() throws {
        let response = try app.client().request("DELETE", "/healthz")
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.headers["Allow"], "GET, HEAD, OPTIONS")
        XCTAssertEqual(try response.json()["code"], .string("method_not_allowed"))
    }

    func testHeadHasHeadersButNoBody() throws {
        let client = app.client()
        let head = try client.request("HEAD", "/healthz")
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["Content-Length"], "15")
        XCTAssertTrue(head.body.isEmpty)
        // The connection is still in sync: the next response parses cleanly.
        XCTAssertEqual(try client.request("GET", "/healthz").status, 200)
    }

    func testOptionsListsAllowedMethods() throws {
        let response = try app.client().request("OPTIONS", "/readyz")
        XCTAssertEqual(response.status, 204)
        XCTAssertEqual(response.headers["Allow"], "GET, HEAD, OPTIONS")
    }
}

/// A flag the readiness check reads; set from the test's thread.
final class ShutdownFlagForTest: @unchecked Sendable {
    // Written and read on the test's thread only; the closure that reads it runs there too (responder called inline).
    var value = false
}
