import Foundation

/// Everything the server's behaviour depends on; the defaults are the contract's (API.md "HTTP behaviour").
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port = 8080
    public var backlog: Int32 = 1024
    public var limits = ParserLimits()
    /// Headers must be complete this long after accept, or after the first byte of a kept-alive connection's next request.
    public var headerTimeout: Duration = .seconds(10)
    /// Longest pause between two bytes of a body.
    public var bodyTimeout: Duration = .seconds(30)
    /// How long a kept-alive connection may wait for its next request.
    public var idleTimeout: Duration = .seconds(60)
    /// How long a client may leave its response unread.
    public var writeTimeout: Duration = .seconds(30)
    public var maxConnections = 1024
    /// Paths answered even past `maxConnections` (liveness and readiness probes), on up to `probeConnections` extra
    /// connections that may send one GET or HEAD to them within `probeTimeout`; anything else on those gets 503.
    public var probePaths: Set<String> = []
    public var probeConnections = 64
    public var probeTimeout: Duration = .seconds(2)
    /// Threads that run the handlers of `offloaded` requests.
    public var workerCount = max(2, ProcessInfo.processInfo.activeProcessorCount)
    /// Requests whose handlers may take long (a backup, an import): they run on the worker pool. Every other handler
    /// runs on the connection's event loop, right after its request is read — no hand-over to another thread, which
    /// measured at about a tenth of a small request's cost. Paths that start with one of these prefixes.
    public var offloadedPathPrefixes: [String] = []

    /// Whether a request to `path` runs on the worker pool.
    func isOffloaded(_ path: String) -> Bool {
        !offloadedPathPrefixes.isEmpty && offloadedPathPrefixes.contains { path.hasPrefix($0) }
    }
    /// Threads that produce chunked bodies; more exports than this at once wait their turn.
    public var streamWorkerCount = 2
    /// Serial queues the connections' socket events run on.
    public var eventLoopCount = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// How long shutdown waits for in-flight requests.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// Headers added to every response, errors included.
    public var defaultHeaders: [(String, String)] = [("X-Content-Type-Options", "nosniff")]

    public init() {}

    var smallestTimeout: Duration {
        [headerTimeout, bodyTimeout, idleTimeout, writeTimeout].min()!
    }
}

extension Duration {
    /// Whole nanoseconds (negative durations count as zero).
    public var nanoseconds: UInt64 {
        let (s, atto) = components
        return UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, atto) / 1_000_000_000)
    }
}

/// Monotonic clock reading in nanoseconds (request timing, timeouts).
public func monotonicNow() -> UInt64 {
    DispatchTime.now().uptimeNanoseconds
}
