import Foundation
import HTTPServer
import SQLite
@testable import TradeTracker

/// The real app on 127.0.0.1 port 0 with its own temporary database, for end-to-end tests.
final class TestApp {
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
        configuration.accessLog = false
        configure(&configuration)
        return configuration
    }

    var databasePath: String { app.configuration.databasePath }

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
