import Foundation
import Synchronization
import HTTPServer

/// The server's numbers for `GET /metrics` (Prometheus text format 0.0.4, API.md §5): requests by route template,
/// method and status; request durations; the writer's batches; rate-limit refusals; and gauges read when asked.
/// Routes are templates (`/v1/rounds/{id}`), never raw paths, so the series stay bounded; unmatched paths are one
/// `route="unmatched"`.
final class Metrics: @unchecked Sendable {
    /// Upper bounds (seconds) of the duration histograms' buckets.
    static let durationBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256]

    /// A histogram's buckets (not cumulative; summed when written), sum and count.
    struct Histogram {
        var buckets: [UInt64]
        var sum = 0.0
        var count: UInt64 = 0

        init(bounds: Int) { buckets = Array(repeating: 0, count: bounds) }

        mutating func observe(_ value: Double, bounds: [Double]) {
            if let index = bounds.firstIndex(where: { value <= $0 }) { buckets[index] += 1 }
            sum += value
            count += 1
        }

        mutating func add(_ other: Histogram) {
            for i in buckets.indices { buckets[i] += other.buckets[i] }
            sum += other.sum
            count += other.count
        }
    }

    private struct RouteKey: Hashable {
        let route: String
        let method: String
    }

    /// One entry per route and method, so a request costs one lookup.
    private struct RouteSeries {
        var statuses: [Int: UInt64] = [:]
        var durations = Histogram(bounds: Metrics.durationBuckets.count)

        mutating func record(status: Int, seconds: Double) {
            statuses[status, default: 0] += 1
            durations.observe(seconds, bounds: Metrics.durationBuckets)
        }

        mutating func add(_ other: RouteSeries) {
            for (status, count) in other.statuses { statuses[status, default: 0] += count }
            durations.add(other.durations)
        }
    }

    /// The request series as one thread recorded them. Every event loop counts into a shard of its own, so the
    /// loops never wait for each other's lock on every request (measured at 200k requests/s on 2 cores: one shared
    /// lock put a loop to sleep on its futex some 2,300 times a second, and woke it as often); `/metrics` adds the
    /// shards up.
    private final class Shard: @unchecked Sendable {
        // `routes` is guarded by `lock`.
        let lock = NSLock()
        var routes: [RouteKey: RouteSeries] = [:]
    }

    private static let shardCount = 8
    private let shards = (0..<Metrics.shardCount).map { _ in Shard() }

    /// Which shard a thread counts into: handed out in turn at a thread's first request, kept in a thread-specific
    /// slot (threads past `shardCount` share, which is correct, only slower).
    private static let shardKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
    private static let shardsHandedOut = Atomic<Int>(0)

    private static func shardIndex() -> Int {
        if let slot = pthread_getspecific(shardKey) { return (Int(bitPattern: slot) - 1) % shardCount }
        let index = shardsHandedOut.add(1, ordering: .relaxed).oldValue % shardCount
        pthread_setspecific(shardKey, UnsafeRawPointer(bitPattern: index + 1))
        return index
    }

    // Everything below is guarded by `lock`.
    private let lock = NSLock()
    private var writeDurations = Histogram(bounds: Metrics.durationBuckets.count)
    private var batchSizes = Histogram(bounds: Metrics.batchBuckets.count)
    private var rateLimited: UInt64 = 0

    /// Read when `/metrics` is asked: open connections, open event streams, writes waiting.
    var gauges: [(name: String, help: String, read: @Sendable () -> Double)] = []

    func recordRequest(route: String?, method: String, status: Int, seconds: Double) {
        let key = RouteKey(route: route ?? "unmatched", method: method)
        let shard = shards[Self.shardIndex()]
        shard.lock.lock()
        shard.routes[key, default: RouteSeries()].record(status: status, seconds: seconds)
        shard.lock.unlock()
    }

    func recordBatch(size: Int, seconds: Double) {
        lock.lock()
        writeDurations.observe(seconds, bounds: Self.durationBuckets)
        batchSizes.observe(Double(size), bounds: Self.batchBuckets)
        lock.unlock()
    }

    func recordRateLimited() {
        lock.lock()
        rateLimited += 1
        lock.unlock()
    }

    /// The exposition, every series in a stable order.
    func render() -> [UInt8] {
        var routes: [RouteKey: RouteSeries] = [:]
        for shard in shards {
            shard.lock.lock()
            for (key, series) in shard.routes { routes[key, default: RouteSeries()].add(series) }
            shard.lock.unlock()
        }
        lock.lock()
        let writeDurations = self.writeDurations, batchSizes = self.batchSizes, rateLimited = self.rateLimited
        lock.unlock()
        var out = ""
        out += "# HELP http_requests_total Requests answered, by route template, method and status.\n"
        out += "# TYPE http_requests_total counter\n"
        let keys = routes.keys.sorted(by: Self.order)
        for key in keys {
            for (status, count) in routes[key]!.statuses.sorted(by: { $0.key < $1.key }) {
                out += "http_requests_total{\(Self.labels(key)),status=\"\(status)\"} \(count)\n"
            }
        }
        out += "# HELP http_request_duration_seconds Time from a request's arrival to its answer, by route template and method.\n"
        out += "# TYPE http_request_duration_seconds histogram\n"
        for key in keys {
            out += Self.histogram("http_request_duration_seconds", labels: Self.labels(key), routes[key]!.durations, bounds: Self.durationBuckets)
        }
        out += "# HELP db_write_duration_seconds Time the writer spent on one transaction (a batch of writes), commit included.\n"
        out += "# TYPE db_write_duration_seconds histogram\n"
        out += Self.histogram("db_write_duration_seconds", labels: nil, writeDurations, bounds: Self.durationBuckets)
        out += "# HELP db_write_batch_size Writes committed together in one transaction.\n"
        out += "# TYPE db_write_batch_size histogram\n"
        out += Self.histogram("db_write_batch_size", labels: nil, batchSizes, bounds: Self.batchBuckets)
        out += "# HELP rate_limited_total Requests refused with 429 by the rate limit.\n"
        out += "# TYPE rate_limited_total counter\n"
        out += "rate_limited_total \(rateLimited)\n"
        for gauge in gauges {
            out += "# HELP \(gauge.name) \(gauge.help)\n# TYPE \(gauge.name) gauge\n\(gauge.name) \(Self.number(gauge.read()))\n"
        }
        return Array(out.utf8)
    }

    private static func order(_ a: RouteKey, _ b: RouteKey) -> Bool { (a.route, a.method) < (b.route, b.method) }

    private static func labels(_ key: RouteKey) -> String {
        "route=\"\(escape(key.route))\",method=\"\(escape(key.method))\""
    }

    private static func histogram(_ name: String, labels: String?, _ histogram: Histogram, bounds: [Double]) -> String {
        let prefix = labels.map { $0 + "," } ?? ""
        var out = ""
        var cumulative: UInt64 = 0
        for (bound, count) in zip(bounds, histogram.buckets) {
            cumulative += count
            out += "\(name)_bucket{\(prefix)le=\"\(number(bound))\"} \(cumulative)\n"
        }
        out += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(histogram.count)\n"
        let plain = labels.map { "{\($0)}" } ?? ""
        out += "\(name)_sum\(plain) \(number(histogram.sum))\n"
        out += "\(name)_count\(plain) \(histogram.count)\n"
        return out
    }

    /// Label values escape backslash, double quote and newline (text format 0.0.4).
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func number(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    /// The process's resident set size, from /proc/self/statm.
    static func residentMemoryBytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Counts every answer for `/metrics` (outermost, so it sees what the client gets, deferred answers included).
struct MetricsRecorder: Middleware {
    let metrics: Metrics

    func handle(_ request: HTTPRequest, next: Handler) throws -> HTTPResponse {
        let started = monotonicNow()
        let response = try next(request)
        let route = request.routeTemplate, method = request.method
        if let deferred = response.deferred {
            deferred.transform { [metrics] completed in
                metrics.recordRequest(route: route, method: method, status: completed.status, seconds: Self.seconds(sinceNanoseconds: started))
                return completed
            }
        } else {
            metrics.recordRequest(route: route, method: method, status: response.status, seconds: Self.seconds(sinceNanoseconds: started))
        }
        return response
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Seconds since `start`, a `monotonicNow()` reading: what every request computes, without `Duration`'s
    /// 128-bit arithmetic.
    static func seconds(sinceNanoseconds start: UInt64) -> Double {
        Double(monotonicNow() &- start) / 1e9
    }
}

/// `GET /metrics`: the Prometheus exposition; with `--metrics-token`, only for that bearer token.
struct MetricsRoute {
    let metrics: Metrics
    let token: String?

    func register(on router: inout Router) {
        let expected = token.map { Array($0.utf8) }
        router.add("GET", "/metrics") { [metrics] request in
            if let expected {
                let header = request.headers["Authorization"] ?? ""
                let given = header.prefix(7).equalsIgnoringASCIICase("Bearer ") ? Array(header.dropFirst(7).utf8) : []
                guard TokenTable.constantTimeEquals(expected, given) else {
                    throw APIError.unauthorized("/metrics needs the metrics token as a bearer token")
                }
            }
            var response = HTTPResponse(status: 200, body: metrics.render())
            response.headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            response.headers.add("Cache-Control", "no-store")
            return response
        }
    }
}
