import Foundation
import HTTPServer

/// Token buckets per client (API.md §1): `perMinute` requests a minute refill a bucket of `burst`. The client is the
/// token's name, else the remote address (`X-Forwarded-For`'s last entry — the one a trusted proxy added — with
/// `trustProxy`). Buckets that are full again are forgotten (they are the same as a new one), so memory stays bounded
/// however many clients come and go.
final class RateLimiter: @unchecked Sendable {
    let perMinute: Int
    let burst: Int
    private let refillPerNanosecond: Double
    /// The most clients tracked at once; past it, full buckets are swept (and, if all are busy, the oldest).
    let maxClients: Int

    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    // `buckets` and `sinceSweep` are guarded by `lock`.
    private let lock = NSLock()
    private var buckets: [String: Bucket] = [:]
    private var sinceSweep = 0

    init(perMinute: Int, burst: Int, maxClients: Int = 100_000) {
        self.perMinute = perMinute
        self.burst = max(1, burst)
        self.maxClients = maxClients
        refillPerNanosecond = Double(perMinute) / 60e9
    }

    /// The state of a client's bucket after a request.
    struct Decision {
        var allowed: Bool
        var remaining: Int
        /// Seconds until the bucket is full again.
        var reset: Int
        /// Seconds until one more request is allowed (for `Retry-After` on a 429).
        var retryAfter: Int
    }

    /// Takes `cost` from `client`'s bucket when it holds that much; refuses otherwise.
    func take(_ client: String, cost: Double = 1, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Decision {
        lock.lock()
        defer { lock.unlock() }
        var bucket = refilled(buckets[client], now: now)
        let allowed = bucket.tokens >= cost
        if allowed { bucket.tokens -= cost }
        buckets[client] = bucket
        sinceSweep += 1
        if buckets.count > maxClients || sinceSweep >= 10_000 { sweep(now: now) }
        return decision(bucket, allowed: allowed)
    }

    /// Settles a request whose cost turned out other than what was taken: `amount` > 0 gives back, < 0 takes more
    /// (the bucket may go below zero; refills pay the debt before the next request passes).
    func adjust(_ client: String, by amount: Double, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Decision {
        lock.lock()
        defer { lock.unlock() }
        var bucket = refilled(buckets[client], now: now)
        bucket.tokens = min(Double(burst), bucket.tokens + amount)
        buckets[client] = bucket
        return decision(bucket, allowed: true)
    }

    var trackedClients: Int {
        lock.lock(); defer { lock.unlock() }
        return buckets.count
    }

    private func refilled(_ bucket: Bucket?, now: UInt64) -> Bucket {
        guard var bucket else { return Bucket(tokens: Double(burst), updated: now) }
        let elapsed = now > bucket.updated ? Double(now - bucket.updated) : 0
        bucket.tokens = min(Double(burst), bucket.tokens + elapsed * refillPerNanosecond)
        bucket.updated = now
        return bucket
    }

    private func decision(_ bucket: Bucket, allowed: Bool) -> Decision {
        let perSecond = Double(perMinute) / 60
        let reset = Int((Double(burst) - bucket.tokens) / perSecond + 0.999)
        let retryAfter = bucket.tokens >= 1 ? 0 : max(1, Int((1 - bucket.tokens) / perSecond + 0.999))
        return Decision(allowed: allowed, remaining: max(0, Int(bucket.tokens)), reset: max(0, reset), retryAfter: retryAfter)
    }

    /// Must hold `lock`. Forgets full buckets; if that is not enough, the least recently used.
    private func sweep(now: UInt64) {
        sinceSweep = 0
        buckets = buckets.filter { refilled($0.value, now: now).tokens < Double(burst) }
        if buckets.count > maxClients {
            let keep = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(maxClients / 2)
            buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }
}

/// Applies the rate limit and writes `RateLimit-Policy` and `RateLimit` on every answer; past the limit, 429
/// `rate_limited` with `Retry-After`. Probes and `/metrics` are not limited; an event stream costs one request.
struct RateLimit: Middleware {
    static let exemptPaths: Set<String> = ["/healthz", "/readyz", "/metrics"]

    let limiter: RateLimiter
    let tokens: TokenTable
    let trustProxy: Bool
    let renderer: any ErrorRenderer
    let metrics: Metrics?

    var policy: String { "\"default\";q=\(limiter.perMinute);w=60" }

    func handle(_ request: HTTPRequest, next: Handler) throws -> HTTPResponse {
        guard !Self.exemptPaths.contains(request.path) else { return try next(request) }
        let client = clientKey(request)
        // A conditional request may be answered 304, which costs a quarter: admit it on a quarter, settle after.
        let conditional = request.headers["If-None-Match"] != nil
        let reserved = conditional ? 0.25 : 1
        let decision = limiter.take(client, cost: reserved)
        guard decision.allowed else {
            metrics?.recordRateLimited()
            var response = renderer.response(for: APIError.rateLimited(retryAfter: decision.retryAfter, perMinute: limiter.perMinute),
                                             request: request, requestID: request.requestID)
            annotate(&response, decision)
            return response
        }
        var response: HTTPResponse
        do {
            response = try next(request)
        } catch {
            response = renderer.response(for: error, request: request, requestID: request.requestID)
        }
        let cost = response.status == 304 ? 0.25 : 1
        let final = cost == reserved ? decision : limiter.adjust(client, by: reserved - cost)
        if let deferred = response.deferred {
            deferred.transform { [self] completed in
                var completed = completed
                annotate(&completed, final)
                return completed
            }
        } else {
            annotate(&response, final)
        }
        return response
    }

    private func annotate(_ response: inout HTTPResponse, _ decision: RateLimiter.Decision) {
        response.headers.set("RateLimit-Policy", policy)
        response.headers.set("RateLimit", "\"default\";r=\(decision.remaining);t=\(decision.reset)")
    }

    /// The token's name for an authenticated caller, else the remote address.
    func clientKey(_ request: HTTPRequest) -> String {
        if let header = request.headers["Authorization"], header.count > 7, header.prefix(7).equalsIgnoringASCIICase("Bearer "),
           let principal = tokens.principal(for: header.dropFirst(7).drop(while: { $0 == " " })) {
            return "token:" + principal.name
        }
        if trustProxy, let forwarded = request.headers.listValues("X-Forwarded-For").last, !forwarded.isEmpty {
            return "address:" + forwarded
        }
        return "address:" + request.remoteAddress
    }
}
