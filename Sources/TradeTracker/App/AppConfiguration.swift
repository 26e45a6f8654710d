import HTTPServer
import SQLite

/// Everything `trade-tracker serve` can be told, from flags or `TRADE_TRACKER_*` environment variables.
public struct AppConfiguration: Sendable {
    public var server = ServerConfiguration()
    public var databasePath = "./data/trade-tracker.sqlite"
    public var migrationsDirectory = "./migrations"
    public var openAPIPath = "./openapi.yaml"
    public var databaseReaders = 4
    public var synchronous = Synchronous.full
    public var loadDemoData = false
    public var accessLog = true
    public var logLevel = Logger.Level.info

    public init() {}
}
