import Foundation
import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// `GET /metrics` (Prometheus text 0.0.4): counters by route template, exactly N for N requests; the histograms and
/// gauges API.md §5 names; an optional token.
final class MetricsTests: XCTestCase {
    /// The value of the sample `name{labels}` in an exposition, or nil.
    static func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    func testNRequestsToARouteRaiseItsCounterByExactlyN() throws {
        let app = try Fixtures.app()
        defer { app.stop() }
        let api = ResourceAPI(app)
        let round = "http_requests_total{route=\"/v1/rounds/{id}\",method=\"GET\",status=\"404\"}"
        let before = Self.sample(try api.get("/metrics").text, round) ?? 0
        for id in 1...7 { XCTAssertEqual(try api.get("/v1/rounds/\(9000 + id)").status, 404) }
        let text = try api.get("/metrics").text
        XCTAssertEqual(Self.sample(text, round), before + 7, "routes are templates, never raw paths")
        XCTAssertFalse(text.contains("/v1/rounds/9001"))
        for _ in 0..<3 { _ = try api.get("/no/such/path/\(UUID().uuidString)") }
        XCTAssertEqual(Self.sample(try api.get("/metrics").text, "http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"), 3)
    }

    /// Each thread counts into a shard of its own; the exposition adds them up. More threads than shards, all at
    /// once, and every request is counted once, in its series, with its duration histogram agreeing.
    func testRequestsCountedOnManyThreadsAddUpExactly() {
        let metrics = Metrics()
        let threads = 20, perThread = 500
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<perThread {
                metrics.recordRequest(route: "/v1/rounds/{id}", method: t % 2 == 0 ? "GET" : "PATCH",
                                      status: i % 5 == 0 ? 404 : 200, seconds: 0.0001)
            }
        }
        metrics.recordRequest(route: nil, method: "GET", status: 404, seconds: 2)
        let text = String(decoding: metrics.render(), as: UTF8.self)
        let get = #"route="/v1/rounds/{id}",method="GET""#, patch = #"route="/v1/rounds/{id}",method="PATCH""#
        let half = threads / 2 * perThread
        XCTAssertEqual(Self.sample(text, "http_requests_total{\(get),status=\"200\"}"), Double(half * 4 / 5))
        XCTAssertEqual(Self.sample(text, "http_requests_total{\(get),status=\"404\"}"), Double(half / 5))
        XCTAssertEqual(Self.sample(text, "http_requests_total{\(patch),status=\"200\"}"), Double(half * 4 / 5))
        XCTAssertEqual(Self.sample(text, "http_request_duration_seconds_count{\(get)}"), Double(half))
        XCTAssertEqual(Self.sample(text, "http_request_duration_seconds_bucket{\(patch),le=\"0.0005\"}"), Double(half))
        XCTAssertEqual(Self.sample(text, "http_request_duration_seconds_bucket{route=\"unmatched\",method=\"GET\",le=\"1\"}"), 0)
        XCTAssertEqual(Self.sample(text, "http_request_duration_seconds_count{route=\"unmatched\",method=\"GET\"}"), 1)
    }

    func testTheSeriesAPIMdNamesAreExposed() throws {
        let app = try Fixtures.app()
        defer { app.stop() }
        let api = ResourceAPI(app)
        for i in 0..<5 { XCTAssertEqual(try api.post("/v1/sources", #"{"title":"Metric \#(i)"}"#).status, 201) }
        let response = try api.get("/metrics")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        let text = response.text
        XCTAssertEqual(Self.sample(text, "http_requests_total{route=\"/v1/sources\",method=\"POST\",status=\"201\"}"), 5,
                       "deferred answers (writes) are counted with their real status")
        XCTAssertEqual(Self.sample(text, "http_request_duration_seconds_count{route=\"/v1/sources\",method=\"POST\"}"), 5)
        XCTAssertEqual(Self.sample(text, "http_request_duration_seconds_bucket{route=\"/v1/sources\",method=\"POST\",le=\"+Inf\"}"), 5)
        XCTAssertGreaterThanOrEqual(Self.sample(text, "db_write_batch_size_sum") ?? 0, 5, "every write was in a batch")
        XCTAssertGreaterThanOrEqual(Self.sample(text, "db_write_duration_seconds_count") ?? 0, 1)
        XCTAssertGreaterThanOrEqual(Self.sample(text, "http_open_connections") ?? 0, 1)
        XCTAssertEqual(Self.sample(text, "sse_open_streams"), 0)
        XCTAssertEqual(Self.sample(text, "db_writer_queue_depth"), 0)
        XCTAssertEqual(Self.sample(text, "rate_limited_total"), 0)
        XCTAssertGreaterThan(Self.sample(text, "process_resident_memory_bytes") ?? 0, 1_000_000)
        for type in ["http_requests_total counter", "http_request_duration_seconds histogram", "db_write_duration_seconds histogram",
                     "db_write_batch_size histogram", "http_open_connections gauge", "sse_open_streams gauge",
                     "db_writer_queue_depth gauge", "rate_limited_total counter", "process_resident_memory_bytes gauge"] {
            XCTAssertTrue(text.contains("# TYPE \(type)\n"), type)
        }
        // Buckets are cumulative and end with +Inf = count.
        let buckets = text.split(separator: "\n").filter { $0.hasPrefix("http_request_duration_seconds_bucket{route=\"/v1/sources\",method=\"POST\"") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }
        XCTAssertEqual(buckets, buckets.sorted())
        let stream = try EventStreamClient(port: app.port)
        defer { stream.close() }
        try stream.waitForRetry()
        XCTAssertEqual(Self.sample(try api.get("/metrics").text, "sse_open_streams"), 1)
    }

    func testTheMetricsTokenIsRequiredWhenConfigured() throws {
        let token = "metrics-token-0123456789abcdef"
        let app = try TestApp { $0.metricsToken = token }
        defer { app.stop() }
        let client = app.client()
        let refused = try client.request("GET", "/metrics")
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(try refused.json()["code"], .string("unauthorized"))
        XCTAssertEqual(try client.request("GET", "/metrics", headers: [("Authorization", "Bearer wrong-token-0123456789")]).status, 401)
        XCTAssertEqual(try client.request("GET", "/metrics", headers: [("Authorization", "Bearer \(token)")]).status, 200)
    }

    func testLabelValuesAreEscaped() {
        XCTAssertEqual(Metrics.escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd")
    }
}
