import Foundation
import HTTPServer
import SQLite

/// The product wired together: database, routes, middleware and the HTTP server.
public final class TradeTrackerApp: Sendable {
    public let configuration: AppConfiguration
    public let logger: Logger
    let database: Database
    let server: HTTPServer
    /// Every method and path template the server answers, for the spec-coverage test.
    public let routes: [(method: String, template: String)]

    public init(configuration: AppConfiguration, logger: Logger? = nil) throws {
        self.configuration = configuration
        let logger = logger ?? Logger(minimumLevel: configuration.logLevel)
        self.logger = logger
        guard let openAPI = FileManager.default.contents(atPath: configuration.openAPIPath) else {
            throw StartupError("cannot read the OpenAPI document \(configuration.openAPIPath); pass --openapi PATH")
        }
        database = try Database(path: configuration.databasePath, migrationsDirectory: configuration.migrationsDirectory,
                                readers: configuration.databaseReaders, synchronous: configuration.synchronous)
        var router = Router()
        let shutdownFlag = ShutdownFlag()
        OperationsRoutes(database: database, openAPIDocument: Array(openAPI), isShuttingDown: { shutdownFlag.isSet })
            .register(on: &router)
        var middleware: [any Middleware] = []
        if configuration.accessLog { middleware.append(AccessLog(logger: logger)) }
        routes = router.routes
        let responder = Responder(router: router, middleware: middleware, logger: logger)
        server = HTTPServer(configuration: configuration.server, responder: responder, logger: logger)
        shutdownFlag.server = server
    }

    /// Starts listening; the bound port is `port` afterwards.
    public func start() throws {
        do {
            try server.start()
        } catch {
            database.close()
            throw StartupError("cannot listen on \(configuration.server.host):\(configuration.server.port): \(error)")
        }
        logger.info("trade-tracker listening on http://\(hostForURL):\(server.port) with database \(configuration.databasePath), "
                    + "\(configuration.server.workerCount) workers")
    }

    private var hostForURL: String {
        configuration.server.host.contains(":") ? "[\(configuration.server.host)]" : configuration.server.host
    }

    public var port: Int { server.port }

    /// Graceful stop: finish in-flight requests, close connections, then the database.
    public func shutdown() {
        logger.info("shutting down")
        server.shutdown()
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
