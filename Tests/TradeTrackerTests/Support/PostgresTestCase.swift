import Foundation
import PGTestSupport
import PostgreSQL
import XCTest
@testable import TradeTracker

/// Base of the product's PostgreSQL engine tests: a fresh schema per test (dropped afterwards) and the
/// PostgreSQL migrations of this checkout. Skips when TT_POSTGRES_URL is unset, like the PostgreSQL wrapper's tests.
class PostgresTestCase: XCTestCase {
    var database: PGTestDatabase!
    var db: PGConnection!

    static let migrationsDirectory = TestApp.packageRoot.appendingPathComponent("migrations/postgres").path

    override func setUpWithError() throws {
        database = try PGTestDatabase()
        // As a DBA would: the extension goes to `public` once, so dropping a test's schema never takes it along
        // (0001 creates it only where it is missing).
        let admin = try PGConnection(database.url)
        defer { admin.close() }
        try admin.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        db = try database.connect()
    }

    override func tearDown() {
        db?.close()
        database?.drop()
    }

    func loadMigrator(_ directory: String = PostgresTestCase.migrationsDirectory) throws -> PostgresMigrator {
        try PostgresMigrator.load(directory: directory)
    }
}
