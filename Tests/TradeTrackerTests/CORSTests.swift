import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// API.md §1 CORS: configured origins get the headers on every response and their preflights answered; others get
/// nothing but `Vary: Origin`; `*` admits reads without credentials only.
final class CORSTests: XCTestCase {
    static let dashboard = "http://127.0.0.1:4173"
    static let exposed = "ETag, Link, Location, X-Request-ID, Retry-After, RateLimit, RateLimit-Policy, Idempotent-Replayed, Content-Disposition"
    var app: TestApp!
    var api: ResourceAPI!

    override func setUpWithError() throws {
        app = try TestApp { $0.tokens = Fixtures.tokens; $0.corsOrigins = [Self.dashboard, "https://newsroom.example.org"] }
        api = ResourceAPI(app)
    }

    override func tearDown() { app.stop() }

    private func assertAllowed(_ response: TestResponse, origin: String = dashboard, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.headers["Access-Control-Allow-Origin"], origin, file: file, line: line)
        XCTAssertEqual(response.headers["Access-Control-Expose-Headers"], Self.exposed, file: file, line: line)
        XCTAssertTrue(response.headers.listValues("Vary").contains("Origin"), "Vary: \(response.headers.values("Vary"))", file: file, line: line)
        XCTAssertNil(response.headers["Access-Control-Allow-Credentials"], "no cookies are ever used", file: file, line: line)
    }

    private func assertNotAllowed(_ response: TestResponse, file: StaticString = #filePath, line: UInt = #line) {
        for field in response.headers where field.name.lowercased().hasPrefix("access-control-") {
            XCTFail("unexpected \(field.name): \(field.value)", file: file, line: line)
        }
        XCTAssertTrue(response.headers.listValues("Vary").contains("Origin"), file: file, line: line)
    }

    func testAConfiguredOriginGetsTheHeadersOnEveryKindOfResponse() throws {
        let origin = [("Origin", Self.dashboard)]
        let ok = try api.get("/v1/status", headers: origin)
        XCTAssertEqual(ok.status, 200)
        assertAllowed(ok)
        let tag = try XCTUnwrap(ok.headers["ETag"])
        let notModified = try api.get("/v1/status", headers: origin + [("If-None-Match", tag)])
        XCTAssertEqual(notModified.status, 304)
        assertAllowed(notModified)
        let notFound = try api.get("/v1/rounds/999999", headers: origin)
        XCTAssertEqual(notFound.status, 404)
        assertAllowed(notFound)
        let unrouted = try api.get("/v1/no-such-thing", headers: origin)
        XCTAssertEqual(unrouted.status, 404)
        assertAllowed(unrouted)
        let unauthorized = try app.client().request("POST", "/v1/sources", json: #"{"title":"x"}"#, headers: origin)
        XCTAssertEqual(unauthorized.status, 401)
        assertAllowed(unauthorized)
        let badList = try api.get("/v1/rounds?limit=0", headers: origin)
        XCTAssertEqual(badList.status, 400)
        assertAllowed(badList)
        // Writes answer after their commit (a deferred response): the headers reach the real answer.
        let created = try api.post("/v1/sources", #"{"title":"Joint statement"}"#, headers: origin)
        XCTAssertEqual(created.status, 201)
        assertAllowed(created)
        let invalid = try api.post("/v1/sources", #"{"title":""}"#, headers: origin)
        XCTAssertEqual(invalid.status, 422)
        assertAllowed(invalid)
        let other = try api.get("/healthz", headers: [("Origin", "https://newsroom.example.org")])
        assertAllowed(other, origin: "https://newsroom.example.org")
    }

    func testLongPollsAndTheEventStreamCarryTheHeaders() throws {
        let poll = try api.get("/v1/changes?since=now&wait=1", headers: [("Origin", Self.dashboard)])
        XCTAssertEqual(poll.status, 200)
        assertAllowed(poll)
        let stream = try EventStreamClient(port: app.port, headers: [("Origin", Self.dashboard)])
        defer { stream.close() }
        XCTAssertEqual(stream.status, 200)
        XCTAssertEqual(stream.headers["Access-Control-Allow-Origin"], Self.dashboard)
        XCTAssertTrue(stream.headers.listValues("Vary").contains("Origin"))
        try stream.waitForRetry()
        _ = try api.source(title: "Seen by a browser stream")
        XCTAssertEqual(try stream.nextEvent(timeout: .seconds(5)).event, "created")
    }

    func testPreflightAnswersWithThePathsMethodsAndTheDashboardHeadersWithoutAToken() throws {
        let preflight = try app.client().request("OPTIONS", "/v1/rounds/7", headers: [
            ("Origin", Self.dashboard), ("Access-Control-Request-Method", "PATCH"),
            ("Access-Control-Request-Headers", "authorization, content-type, if-match"),
        ])
        XCTAssertEqual(preflight.status, 204)
        XCTAssertEqual(preflight.headers["Access-Control-Allow-Origin"], Self.dashboard)
        XCTAssertEqual(preflight.headers["Access-Control-Allow-Methods"], "GET, HEAD, PATCH, DELETE, OPTIONS")
        XCTAssertEqual(preflight.headers["Access-Control-Allow-Headers"],
                       "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, Last-Event-ID, X-Request-ID")
        XCTAssertEqual(preflight.headers["Access-Control-Max-Age"], "600")
        XCTAssertTrue(preflight.body.isEmpty)
        let collection = try app.client().request("OPTIONS", "/v1/rounds", headers: [
            ("Origin", Self.dashboard), ("Access-Control-Request-Method", "POST"),
        ])
        XCTAssertEqual(collection.headers["Access-Control-Allow-Methods"], "GET, HEAD, POST, OPTIONS")
        let feed = try app.client().request("OPTIONS", "/v1/changes", headers: [
            ("Origin", Self.dashboard), ("Access-Control-Request-Method", "GET"), ("Access-Control-Request-Headers", "last-event-id"),
        ])
        XCTAssertEqual(feed.status, 204)
        XCTAssertEqual(feed.headers["Access-Control-Allow-Methods"], "GET, HEAD, OPTIONS")
        // Preflights never ask for credentials, even where reads need a token.
        app.stop()
        app = try TestApp { $0.tokens = Fixtures.tokens; $0.corsOrigins = [Self.dashboard]; $0.requireAuthForReads = true }
        let guarded = try app.client().request("OPTIONS", "/v1/status", headers: [
            ("Origin", Self.dashboard), ("Access-Control-Request-Method", "GET"),
        ])
        XCTAssertEqual(guarded.status, 204)
        XCTAssertEqual(guarded.headers["Access-Control-Allow-Origin"], Self.dashboard)
        let unauthorized = try app.client().request("GET", "/v1/status", headers: [("Origin", Self.dashboard)])
        XCTAssertEqual(unauthorized.status, 401)
        XCTAssertEqual(unauthorized.headers["Access-Control-Allow-Origin"], Self.dashboard, "so the page can read the 401")
    }

    func testAnOriginNotConfiguredGetsNoCORSHeadersAndAPlainPreflight() throws {
        let evil = [("Origin", "http://127.0.0.1:9999")]
        let read = try api.get("/v1/status", headers: evil)
        XCTAssertEqual(read.status, 200, "the server answers; the browser withholds it from the page")
        assertNotAllowed(read)
        let preflight = try app.client().request("OPTIONS", "/v1/rounds", headers: evil + [("Access-Control-Request-Method", "POST")])
        XCTAssertEqual(preflight.status, 204)
        XCTAssertEqual(preflight.headers["Allow"], "GET, HEAD, POST, OPTIONS")
        assertNotAllowed(preflight)
        // Matching is exact: scheme, host and port.
        for near in ["https://127.0.0.1:4173", "http://127.0.0.1:4174", "http://localhost:4173", "http://127.0.0.1:4173/", "null"] {
            assertNotAllowed(try api.get("/healthz", headers: [("Origin", near)]))
        }
        let noOrigin = try api.get("/v1/status")
        assertNotAllowed(noOrigin)
        // A preflight on a path the server does not route is its plain 404.
        let unknown = try app.client().request("OPTIONS", "/v1/nowhere", headers: [
            ("Origin", Self.dashboard), ("Access-Control-Request-Method", "GET"),
        ])
        XCTAssertEqual(unknown.status, 404)
        XCTAssertNil(unknown.headers["Access-Control-Allow-Methods"])
    }

    func testTheWildcardAdmitsReadsWithoutCredentialsOnly() throws {
        app.stop()
        app = try TestApp { $0.tokens = Fixtures.tokens; $0.corsOrigins = ["*"] }
        api = ResourceAPI(app)
        let anyone = [("Origin", "https://anyone.example")]
        let read = try api.get("/v1/status", headers: anyone)
        XCTAssertEqual(read.headers["Access-Control-Allow-Origin"], "*")
        XCTAssertEqual(read.headers["Access-Control-Expose-Headers"], Self.exposed)
        let withToken = try api.get("/v1/status", headers: anyone + [("Authorization", "Bearer \(Fixtures.readToken)")])
        XCTAssertEqual(withToken.status, 200)
        XCTAssertNil(withToken.headers["Access-Control-Allow-Origin"], "a token never passes through the wildcard")
        let write = try api.post("/v1/sources", #"{"title":"x"}"#, headers: anyone)
        XCTAssertNil(write.headers["Access-Control-Allow-Origin"])
        let preflight = try app.client().request("OPTIONS", "/v1/rounds", headers: anyone + [("Access-Control-Request-Method", "POST")])
        XCTAssertEqual(preflight.status, 204)
        XCTAssertEqual(preflight.headers["Access-Control-Allow-Origin"], "*")
        XCTAssertEqual(preflight.headers["Access-Control-Allow-Methods"], "GET, HEAD, OPTIONS", "only reads")
        XCTAssertFalse(preflight.headers["Access-Control-Allow-Headers"]?.contains("Authorization") ?? true)
    }

    func testOriginsComeFromRepeatedFlagsOrACommaSeparatedVariable() throws {
        let env = ["TRADE_TRACKER_CORS_ORIGIN": "http://a.example, https://b.example:8443"]
        guard case .serve(let fromEnvironment) = try CommandLineOptions.parse(["serve"], environment: env) else { return XCTFail() }
        XCTAssertEqual(fromEnvironment.corsOrigins, ["http://a.example", "https://b.example:8443"])
        guard case .serve(let fromFlags) = try CommandLineOptions.parse(
            ["serve", "--cors-origin", "http://c.example", "--cors-origin=http://127.0.0.1:3000"], environment: env)
        else { return XCTFail() }
        XCTAssertEqual(fromFlags.corsOrigins, ["http://c.example", "http://127.0.0.1:3000"], "flags replace the environment's list")
        for bad in ["c.example", "http://c.example/", "http://c.example/path", "HTTP://C.EXAMPLE", "ftp://c.example", "http://"] {
            XCTAssertThrowsError(try CommandLineOptions.parse(["serve", "--cors-origin", bad], environment: [:]), bad)
        }
    }
}
