import Foundation
import HTTPServer
import SQLite
@testable import TradeTracker

/// The real app on 127.0.0.1 port 0 with its own temporary database, for end-to-end tests.
final class TestApp: Sendable {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    let directory: URL
    let app: TradeTrackerApp
    var port: Int { app.port }

    init(_ configure: (inout AppConfiguration) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configuration = Self.configuration(directory: directory, configure)
        app = try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .error))
        try app.start()
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
        let pool = app.database.pool
        Thread.detachNewThread {
            try? pool.withWriter { _ in
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
        let connection = try SQLiteConnection(path: databasePath, flags: [.readOnly])
        defer { connection.close() }
        return try connection.query(sql, values)
    }

    func stop() {
        app.shutdown()
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
