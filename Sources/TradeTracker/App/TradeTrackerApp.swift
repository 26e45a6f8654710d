import Foundation
import HTTPServer
import SQLite

/// The product wired together: database, routes, middleware and the HTTP server.
public final class TradeTrackerApp: Sendable {
    public let configuration: AppConfiguration
    public let logger: Logger
    let database: Database
    let server: HTTPServer
    let feed: ChangeFeed
    let writes: WriteService
    let retention: Retention
    /// Tells the feed about commits made by other processes on the file.
    let outsideCommits: OutsideCommits?
    /// PostgreSQL: hears the commits of every instance (LISTEN/NOTIFY) for the change feed, long polls and streams.
    let changeListener: ChangeListener?
    /// Whole GET answers kept until the database changes.
    let responses: ResponseCache
    /// Every method and path template the server answers, for the spec-coverage test.
    public let routes: [(method: String, template: String)]

    public convenience init(configuration: AppConfiguration, logger: Logger? = nil) throws {
        try self.init(configuration: configuration, logger: logger, clock: .system)
    }

    init(configuration: AppConfiguration, logger: Logger?, clock: TimeSource) throws {
        self.configuration = configuration
        let logger = logger ?? Logger(minimumLevel: configuration.logLevel)
        self.logger = logger
        guard let openAPI = FileManager.default.contents(atPath: configuration.openAPIPath) else {
            throw StartupError("cannot read the OpenAPI document \(configuration.openAPIPath); pass --openapi PATH")
        }
        database = try Database(location: configuration.database, migrationsDirectory: configuration.migrationsDirectory,
                                readers: configuration.databaseReaders, synchronous: configuration.synchronous)
        responses = ResponseCache.forDatabase(database)
        let tokens = try Self.loadTokens(configuration)
        let signal = ChangeSignal(seq: try database.read { try ChangeSignal.newestSeq($0) },
                                  prunedThrough: try database.read { try ChangeSignal.prunedThrough($0) })
        let records = RecordCache()
        let metrics = Metrics()
        let writes = WriteService(database: database, records: records, changes: signal, idempotency: IdempotencyStore(),
                                  health: StorageHealth(path: configuration.databasePath, logger: logger), logger: logger,
                                  batchLimit: configuration.writerBatchLimit, queueLimit: configuration.writerQueueLimit,
                                  observeBatch: { [metrics] size, seconds in metrics.recordBatch(size: size, seconds: seconds) })
        self.writes = writes
        let context = APIContext(database: database, clock: clock, signer: try Self.cursorSigner(database),
                                 requireIfMatch: configuration.requireIfMatch, logger: logger, changes: signal, records: records,
                                 responses: responses, writes: writes)
        if configuration.loadDemoData {
            do {
                if try DemoData.load(file: configuration.demoFile, writes: writes, clock: clock) {
                    logger.info("loaded the demo data from \(configuration.demoFile)")
                } else {
                    logger.info("the database already holds data; the demo data was not loaded")
                }
            } catch {
                writes.writer.stop(timeout: .seconds(1))
                database.close()
                throw error
            }
        }
        retention = Retention(writes: writes, changes: signal, clock: clock, changeLogDays: configuration.changeLogRetentionDays,
                              interval: configuration.retentionInterval)
        switch configuration.database {
        case .sqlite(let path):
            changeListener = nil
            do {
                outsideCommits = try OutsideCommits(path: path, changes: signal)
            } catch {
                logger.warning("cannot watch for commits by other processes (\(error)); the change feed hears only this server's writes")
                outsideCommits = nil
            }
        case .postgres(let url):
            outsideCommits = nil
            do {
                changeListener = try ChangeListener(url: url, changes: signal, logger: logger)
            } catch {
                retention.stop()
                writes.writer.stop(timeout: .seconds(1))
                database.close()
                throw StartupError("cannot listen for other instances' commits: \(error)")
            }
        }
        if tokens.isEmpty {
            logger.warning("no tokens configured (--tokens-file or TRADE_TRACKER_TOKENS): reads are served, writes are disabled")
        }
        var router = Router()
        let shutdownFlag = ShutdownFlag()
        OperationsRoutes(readiness: { [database, writes] in database.readiness(writeProbe: { writes.probe() }) },
                         openAPIDocument: Array(openAPI), isShuttingDown: { shutdownFlag.isSet })
            .register(on: &router)
        APIRoutes.register(context: context, on: &router)
        BatchRoutes(context: context, router: router).register(on: &router)
        ImportRoutes(context: context, maxLineBytes: configuration.server.limits.maxBodyBytes).register(on: &router)
        feed = ChangeFeed(database: database, signal: signal, logger: logger, heartbeat: configuration.feedHeartbeat)
        ChangesRoutes.register(context: context, feed: feed, on: &router)
        let renderer = ProblemRenderer(logger: logger)
        try StaticFiles(directory: configuration.publicDirectory).register(on: &router)
        MetricsRoute(metrics: metrics, token: configuration.metricsToken).register(on: &router)
        AdminRoutes(databasePath: configuration.databasePath,
                    backupDirectory: configuration.backupDirectory
                        ?? ((configuration.databasePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("backups"),
                    clock: clock).register(on: &router)
        // Outermost first: metrics and the access log see every answer as the client gets it; CORS renders errors so
        // that they (429s and 304s too) carry its headers; the rate limit runs before authentication, so 401s count.
        var middleware: [any Middleware] = [MetricsRecorder(metrics: metrics)]
        if configuration.accessLog {
            middleware.append(AccessLog(logger: logger, format: AccessLog.Format(rawValue: configuration.logFormat) ?? .text, tokens: tokens))
        }
        middleware.append(CORS(origins: configuration.corsOrigins, renderer: renderer))
        if configuration.rateLimit > 0 {
            middleware.append(RateLimit(limiter: RateLimiter(perMinute: configuration.rateLimit, burst: configuration.rateBurst),
                                        tokens: tokens, trustProxy: configuration.trustProxy, renderer: renderer, metrics: metrics))
        }
        middleware.append(Authentication(tokens: tokens, requireAuthForReads: configuration.requireAuthForReads, pathPrefix: "/v1/"))
        middleware.append(ConditionalGET(pathPrefix: "/v1/"))
        routes = router.routes
        let responder = Responder(router: router, middleware: middleware, renderer: renderer)
        var serverConfiguration = configuration.server
        serverConfiguration.limits.maxBodyBytesByPath[ImportRoutes.path] = configuration.maxImportBytes
        // An orchestrator's probes are answered even when a flood of connections holds every slot.
        serverConfiguration.probePaths = ["/healthz", "/readyz"]
        // What may hold its thread for long goes to the worker pool, so no event loop (and none of its connections,
        // the probes included) waits for it: backups, imports, batches.
        serverConfiguration.offloadedPathPrefixes = ["/v1/admin/", "/v1/import", "/v1/batch"]
        if case .postgres = configuration.database {
            // On PostgreSQL every read waits for network round trips: on the event loops (one thread a core) those
            // waits would add up instead of overlapping, and hold every other connection of the loop. The API runs
            // on the worker pool, with two threads a reader connection, so as many queries are in flight as there
            // are readers; the probes stay on the loops.
            serverConfiguration.offloadedPathPrefixes = ["/v1/"]
            serverConfiguration.workerCount = max(serverConfiguration.workerCount, 2 * configuration.databaseReaders)
        }
        server = HTTPServer(configuration: serverConfiguration, responder: responder, logger: logger)
        let server = self.server, feed = self.feed, writer = writes.writer
        metrics.gauges = [
            ("http_open_connections", "Client connections open now.", { Double(server.openConnections) }),
            ("sse_open_streams", "Server-Sent Event streams open now.", { Double(feed.openStreams) }),
            ("db_writer_queue_depth", "Writes waiting for the writer now.", { Double(writer.queueDepth) }),
            ("process_resident_memory_bytes", "Resident memory of the server process.", { Metrics.residentMemoryBytes() }),
        ]
        shutdownFlag.server = server
    }

    private static func loadTokens(_ configuration: AppConfiguration) throws -> TokenTable {
        var entries: [TokenTable.Entry] = []
        if let file = configuration.tokensFile { entries += try TokenTable.load(file: file).entries }
        if let text = configuration.tokens { entries += try TokenTable.parse(text, origin: "TRADE_TRACKER_TOKENS").entries }
        return TokenTable(entries: entries)
    }

    /// The cursor-signing key, made on first start and kept in the database so cursors survive restarts.
    private static func cursorSigner(_ database: Database) throws -> CursorSigner {
        let stored = try database.write { db -> String in
            // The first instance to start makes the key and every other one reads it, also one starting at the same
            // moment on PostgreSQL (its insert waits for the first's commit, then does nothing): a cursor made by
            // one instance pages on all of them.
            var generator = SystemRandomNumberGenerator()
            let fresh = (generator.next() as UInt64).paddedHex + (generator.next() as UInt64).paddedHex
            try db.run("INSERT INTO app_settings (name, value) VALUES ('cursor_key', ?) ON CONFLICT (name) DO NOTHING", [.text(fresh)])
            guard let value = try db.queryOne("SELECT value FROM app_settings WHERE name = 'cursor_key'")?.text("value") else {
                throw StartupError("the cursor key could not be stored in app_settings")
            }
            return value
        }
        let k0 = UInt64(stored.prefix(16), radix: 16) ?? 0, k1 = UInt64(stored.suffix(16), radix: 16) ?? 0
        return CursorSigner(hasher: SipHash(k0: k0, k1: k1))
    }

    /// Starts listening; the bound port is `port` afterwards.
    public func start() throws {
        do {
            try server.start()
        } catch {
            database.close()
            throw StartupError("cannot listen on \(configuration.server.host):\(configuration.server.port): \(error)")
        }
        logger.info("trade-tracker listening on http://\(hostForURL):\(server.port) with database \(configuration.database), "
                    + "\(server.configuration.workerCount) workers")
        logger.info("dashboard: open http://\(hostForURL):\(server.port)/ in a browser")
    }

    private var hostForURL: String {
        configuration.server.host.contains(":") ? "[\(configuration.server.host)]" : configuration.server.host
    }

    public var port: Int { server.port }

    /// Graceful stop: finish in-flight requests, close connections, then the database.
    public func shutdown() {
        logger.info("shutting down")
        // Long polls are answered and event streams ended first, so the server's drain finds them done. Writes still
        // queued finish (within the grace period) and are answered while the server drains; new ones get 503.
        feed.shutdown()
        retention.stop()
        outsideCommits?.stop()
        _ = changeListener?.stop(timeout: .seconds(2))
        writes.writer.stopAccepting()
        server.shutdown()
        writes.writer.stop(timeout: configuration.server.shutdownGracePeriod)
        database.close()
        logger.info("stopped")
        logger.flush()
    }
}

/// Lets the readiness check see the server's shutdown state without a reference cycle at construction.
final class ShutdownFlag: @unchecked Sendable {
    // Written once during app construction, before the server starts; read afterwards.
    var server: HTTPServer?
    var isSet: Bool { server?.isShuttingDown ?? false }
}
