import Foundation
import HTTPServer
import PGTestSupport
import PostgreSQL
import SQLite
import XCTest
@testable import TradeTracker

/// The real app on 127.0.0.1 port 0 with its own temporary database, for end-to-end tests.
final class TestApp: Sendable {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let directory: URL
    let app: TradeTrackerApp
    /// The schema of its own on PostgreSQL (`TT_ENGINE=postgres`), dropped by `stop`.
    let postgres: PGTestDatabase?
    var port: Int { app.port }

    /// The engine the API tests run on: `TT_ENGINE=postgres` (with `TT_POSTGRES_URL`) or SQLite.
    static let engine: StorageEngine = ProcessInfo.processInfo.environment["TT_ENGINE"] == "postgres" ? .postgres : .sqlite

    /// Skips a test that is about SQLite itself (its file, WAL, `data_version`, backups, commit hooks) when the
    /// suite runs on PostgreSQL.
    static func requireSQLite(_ why: String = "") throws {
        guard engine == .sqlite else { throw XCTSkip("SQLite only\(why.isEmpty ? "" : ": " + why)") }
    }

    init(_ configure: (inout AppConfiguration) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Self.configuration(directory: directory)
        let postgres = Self.engine == .postgres ? try TestApp.postgresSchema() : nil
        if let postgres { configuration.databasePath = postgres.scopedURL }
        configure(&configuration)
        if let postgres, case .sqlite = configuration.database {
            // The test names an SQLite file of its own: it is about SQLite whatever the engine.
            postgres.drop()
            try? FileManager.default.removeItem(at: directory)
            throw XCTSkip("SQLite only: the test names its own SQLite file")
        }
        // A test that names a schema of its own (a second app on a restored copy) keeps and drops it itself.
        let owned = postgres.flatMap { configuration.database == .postgres(url: $0.scopedURL) ? $0 : nil }
        if owned == nil { postgres?.drop() }
        self.postgres = owned
        do {
            app = try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .error))
            try app.start()
        } catch {
            postgres?.drop()
            throw error
        }
    }

    /// A fresh schema; `unaccent` goes to `public` once, as a DBA would, so dropping the schema never takes it along.
    static func postgresSchema() throws -> PGTestDatabase {
        let database = try PGTestDatabase()
        let admin = try PGConnection(database.url)
        defer { admin.close() }
        try admin.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        return database
    }

    static func configuration(directory: URL, _ configure: (inout AppConfiguration) -> Void = { _ in }) -> AppConfiguration {
        var configuration = AppConfiguration()
        configuration.server.host = "127.0.0.1"
        configuration.server.port = 0
        configuration.databasePath = directory.appendingPathComponent("test.sqlite").path
        configuration.migrationsDirectory = packageRoot.appendingPathComponent("migrations").path
        configuration.openAPIPath = packageRoot.appendingPathComponent("openapi.yaml").path
        configuration.publicDirectory = packageRoot.appendingPathComponent("public").path
        configuration.accessLog = false
        // Tests make hundreds of requests a second from one address; the rate limit has tests of its own.
        configuration.rateLimit = 0
        configure(&configuration)
        return configuration
    }

    var databasePath: String { app.configuration.databasePath }

    /// The `trade-tracker` executable built beside the test bundle, for child-process tests.
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("trade-tracker")
    }

    /// Holds the writer connection until the returned function is called: writes queue up meanwhile (and the
    /// writer thread waits for the connection), so a test can make them land in one batch.
    func holdWriter() -> () -> Void {
        let taken = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let database = app.database
        Thread.detachNewThread {
            try? database.withWriter { _ in
                taken.signal()
                release.wait()
            }
        }
        taken.wait()
        return { release.signal() }
    }

    func client() -> TestClient { TestClient(port: port) }

    /// Reads the database directly (a separate connection), to check what the API stored.
    func query(_ sql: String, _ values: [SQLValue] = []) throws -> [Row] {
        try withConnection(readOnly: true) { try $0.query(sql, values) }
    }

    /// `body` on a connection of its own to the app's database, whichever the engine.
    func withConnection<T>(readOnly: Bool = false, _ body: (any SQLExecutor) throws -> T) throws -> T {
        if case .postgres(let url) = app.configuration.database {
            let connection = try PGConnection(url)
            defer { connection.close() }
            return try body(PostgresExecutor(connection))
        }
        let connection = try SQLiteConnection(path: databasePath, flags: readOnly ? [.readOnly] : [.readWrite, .create])
        defer { connection.close() }
        return try body(connection)
    }

    /// The SQLite pool of a test about SQLite itself; skips the test on PostgreSQL.
    func sqlitePool() throws -> DatabasePool {
        try TestApp.requireSQLite()
        guard let pool = app.database.sqlitePool else { throw XCTSkip("SQLite only") }
        return pool
    }

    func stop() {
        app.shutdown()
        postgres?.drop()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Polls `condition` until it holds or `timeout` passes; whether it held.
func eventually(timeout: TimeInterval = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
