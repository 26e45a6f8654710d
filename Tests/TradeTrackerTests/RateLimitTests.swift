import Foundation
import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// API.md §1 rate limit: a token bucket per client, the IETF RateLimit headers on every answer, 429 past it,
/// 304s at a quarter, probes and /metrics exempt, an event stream at one request, bounded memory.
final class RateLimitTests: XCTestCase {
    private func app(limit: Int = 60, burst: Int = 5, _ configure: @escaping (inout AppConfiguration) -> Void = { _ in }) throws -> TestApp {
        try TestApp {
            $0.tokens = Fixtures.tokens
            $0.rateLimit = limit
            $0.rateBurst = burst
            $0.corsOrigins = ["http://dash.example"]
            configure(&$0)
        }
    }

    func testEveryAnswerCarriesTheHeadersAndThe429ComesPastTheBurst() throws {
        let app = try app()
        defer { app.stop() }
        let client = app.client()
        var remaining: [String] = []
        for _ in 0..<5 {
            let response = try client.request("GET", "/v1/rounds/424242", headers: [("Origin", "http://dash.example")])
            XCTAssertEqual(response.status, 404, "errors count and carry the headers too")
            XCTAssertEqual(response.headers["RateLimit-Policy"], "\"default\";q=60;w=60")
            remaining.append(response.headers["RateLimit"] ?? "")
        }
        XCTAssertEqual(remaining.map { $0.split(separator: ";")[1] }, ["r=4", "r=3", "r=2", "r=1", "r=0"])
        let refused = try client.request("GET", "/v1/status", headers: [("Origin", "http://dash.example")])
        XCTAssertEqual(refused.status, 429)
        XCTAssertEqual(try refused.json()["code"], .string("rate_limited"))
        XCTAssertEqual(refused.headers["Retry-After"], "1", "one request a second at 60 a minute")
        XCTAssertEqual(refused.headers["Access-Control-Allow-Origin"], "http://dash.example", "a browser can read the 429")
        XCTAssertTrue(refused.headers["RateLimit"]?.hasPrefix("\"default\";r=0;t=") ?? false)
        XCTAssertEqual(MetricsTests.sample(try client.request("GET", "/metrics").text, "rate_limited_total"), 1)
        // Probes and /metrics are never limited.
        for _ in 0..<20 {
            XCTAssertEqual(try client.request("GET", "/healthz").status, 200)
            XCTAssertEqual(try client.request("GET", "/metrics").status, 200)
        }
        XCTAssertNil(try client.request("GET", "/healthz").headers["RateLimit"])
        usleep(1_100_000)
        XCTAssertEqual(try client.request("GET", "/v1/status").status, 200, "the bucket refills")
    }

    func testA304CostsAQuarter() throws {
        let app = try app(burst: 3)
        defer { app.stop() }
        let client = app.client()
        let first = try client.request("GET", "/v1/status")
        let tag = try XCTUnwrap(first.headers["ETag"])
        // 2 left after the 200; eight 304s at a quarter each take the other 2.
        for _ in 0..<7 { XCTAssertEqual(try client.request("GET", "/v1/status", headers: [("If-None-Match", tag)]).status, 304) }
        XCTAssertEqual(try client.request("GET", "/v1/status", headers: [("If-None-Match", tag)]).status, 304)
        XCTAssertEqual(try client.request("GET", "/v1/status").status, 429, "a 200 now costs more than is left")
    }

    func testClientsAreTheirTokenOrTheirAddress() throws {
        let app = try app(burst: 2)
        defer { app.stop() }
        let anonymous = app.client(), writer = ResourceAPI(app), reader = ResourceAPI(app, token: Fixtures.readToken)
        for _ in 0..<2 { XCTAssertEqual(try anonymous.request("GET", "/v1/status").status, 200) }
        XCTAssertEqual(try anonymous.request("GET", "/v1/status").status, 429)
        XCTAssertEqual(try writer.get("/v1/status", headers: [("Authorization", "Bearer \(Fixtures.writeToken)")]).status, 200,
                       "a token has its own bucket")
        XCTAssertEqual(try reader.get("/v1/status", headers: [("Authorization", "Bearer \(Fixtures.readToken)")]).status, 200)
        // An invalid token does not buy a fresh bucket.
        XCTAssertEqual(try anonymous.request("GET", "/v1/status", headers: [("Authorization", "Bearer not-a-real-token-at-all")]).status, 429)
    }

    func testForwardedForIsTrustedOnlyWhenConfigured() throws {
        let plain = try app(burst: 1)
        defer { plain.stop() }
        let client = plain.client()
        XCTAssertEqual(try client.request("GET", "/v1/status", headers: [("X-Forwarded-For", "198.51.100.1")]).status, 200)
        XCTAssertEqual(try client.request("GET", "/v1/status", headers: [("X-Forwarded-For", "198.51.100.2")]).status, 429,
                       "without --trust-proxy the header is ignored")
        let proxied = try app(burst: 1) { $0.trustProxy = true }
        defer { proxied.stop() }
        let behind = proxied.client()
        XCTAssertEqual(try behind.request("GET", "/v1/status", headers: [("X-Forwarded-For", "203.0.113.9, 198.51.100.1")]).status, 200)
        XCTAssertEqual(try behind.request("GET", "/v1/status", headers: [("X-Forwarded-For", "203.0.113.9, 198.51.100.2")]).status, 200,
                       "the proxy's last entry names the client")
        XCTAssertEqual(try behind.request("GET", "/v1/status", headers: [("X-Forwarded-For", "198.51.100.2")]).status, 429)
    }

    func testAnEventStreamCostsOneRequest() throws {
        let app = try app(burst: 5)
        defer { app.stop() }
        let stream = try EventStreamClient(port: app.port)
        defer { stream.close() }
        try stream.waitForRetry()
        XCTAssertTrue(stream.headers["RateLimit"]?.hasPrefix("\"default\";r=4;") ?? false, "\(stream.headers["RateLimit"] ?? "none")")
        let writer = ResourceAPI(app)
        for i in 0..<4 { XCTAssertEqual(try writer.post("/v1/sources", #"{"title":"Event \#(i)"}"#).status, 201) }
        for _ in 0..<4 { XCTAssertEqual(try stream.nextEvent(timeout: .seconds(5)).event, "created") }
        let after = try app.client().request("GET", "/v1/status")
        XCTAssertEqual(after.status, 200)
        XCTAssertTrue(after.headers["RateLimit"]?.hasPrefix("\"default\";r=3;") ?? false, "the events took nothing: \(after.headers["RateLimit"] ?? "")")
    }

    func testMemoryStaysBoundedHoweverManyClientsCome() {
        let limiter = RateLimiter(perMinute: 600, burst: 10, maxClients: 1_000)
        var now: UInt64 = 1_000_000_000
        for i in 0..<50_000 {
            _ = limiter.take("address:10.\(i / 65_536).\(i / 256 % 256).\(i % 256)", now: now)
            now += 1_000
        }
        XCTAssertLessThanOrEqual(limiter.trackedClients, 1_001)
        // Idle buckets refill and are forgotten: the same as new ones.
        now += 60_000_000_000
        _ = limiter.take("address:fresh", now: now)
        for _ in 0..<10_000 { _ = limiter.take("address:fresh", now: now) }
        XCTAssertLessThanOrEqual(limiter.trackedClients, 10)
    }
}
