import HTTPServer
import SQLite

/// Everything `trade-tracker serve` can be told, from flags or `TRADE_TRACKER_*` environment variables.
public struct AppConfiguration: Sendable {
    public var server = ServerConfiguration()
    /// An SQLite file's path or a `postgres://` URL, as given (see `database`).
    public var databasePath = "./data/trade-tracker.sqlite"
    public var migrationsDirectory = "./migrations"
    public var openAPIPath = "./openapi.yaml"
    public var databaseReaders = 4
    public var synchronous = Synchronous.full
    public var loadDemoData = false
    public var accessLog = true
    /// `text` (one readable line) or `json` (one JSON object) per request.
    public var logFormat = "text"
    /// Requests a minute per client (0: no limit), refilling a bucket of `rateBurst`.
    public var rateLimit = 1200
    public var rateBurst = 200
    /// Take the client's address from `X-Forwarded-For` (behind a proxy that sets it).
    public var trustProxy = false
    /// Change-log rows older than this many days are deleted (nil: kept forever).
    public var changeLogRetentionDays: Int?
    /// How often retention runs (expired idempotency keys, old change-log rows).
    public var retentionInterval: Duration = .seconds(600)
    /// Where `POST /v1/admin/backup` writes; nil: a `backups` folder beside the database.
    public var backupDirectory: String?
    /// When set, `GET /metrics` needs this bearer token.
    public var metricsToken: String?
    public var logLevel = Logger.Level.info
    /// A `name scope token` file (mode 600).
    public var tokensFile: String?
    /// Tokens given directly (`TRADE_TRACKER_TOKENS`), `name:scope:token` entries separated by commas.
    public var tokens: String?
    public var requireAuthForReads = false
    public var requireIfMatch = false
    /// Largest body of `POST /v1/import` (NDJSON records); every other body has `server.limits.maxBodyBytes`.
    public var maxImportBytes = 16 * 1024 * 1024
    /// Most writes the writer commits in one transaction.
    public var writerBatchLimit = 64
    /// Most writes waiting for the writer; past it a write gets 503.
    public var writerQueueLimit = 1024
    /// Origins (`https://dash.example.org`, or `*`) whose browser pages may read the API (CORS).
    public var corsOrigins: [String] = []
    /// The folder of the dashboard page served at `/`.
    public var publicDirectory = "./public"
    /// The demo data file `--demo` loads.
    public var demoFile = "./demo/us-china-2025.json"
    /// How often open event streams get a `:` heartbeat comment (tests shorten it). Public like every stored
    /// property here: an internal one changes the layout without changing the interface, and an incremental
    /// build then keeps a stale copy of the layout in the executable.
    public var feedHeartbeat: Duration = .seconds(15)

    public init() {}

    /// The engine and place `databasePath` names.
    public var database: DatabaseLocation { DatabaseLocation(databasePath) }
}
