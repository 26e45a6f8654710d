import Foundation
import PostgreSQL
import SQLite
import XCTest
@testable import TradeTracker

/// The one migrator's rules, applied to PostgreSQL: numbering, checksums, bookkeeping, the lock.
final class PostgresMigratorTests: PostgresTestCase {
    private func appliedVersions() throws -> [Int64] {
        try db.query("SELECT version FROM schema_migrations ORDER BY version").compactMap { $0.int("version") }
    }

    /// A copy of the PostgreSQL migrations to edit, removed after the test.
    private func copiedMigrations() throws -> URL {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("tt-pg-migrations-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: PostgresTestCase.migrationsDirectory, toPath: copy.path)
        addTeardownBlock { try? FileManager.default.removeItem(at: copy) }
        return copy
    }

    func testEveryMigrationAppliesToAnEmptySchemaAndAgainIsANoOp() throws {
        let migrator = try loadMigrator()
        let sqliteNames = try Migrator.load(directory: TestApp.packageRoot.appendingPathComponent("migrations").path)
            .migrations.map(\.identifier)
        XCTAssertEqual(migrator.migrations.map(\.identifier), sqliteNames, "one PostgreSQL migration per SQLite migration")
        XCTAssertEqual(try migrator.pending(db).count, migrator.migrations.count)

        XCTAssertEqual(try migrator.migrate(db).map(\.identifier), sqliteNames)
        XCTAssertEqual(try migrator.migrate(db), [])
        XCTAssertTrue(try migrator.isUpToDate(db))

        let recorded = try db.query("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
        XCTAssertEqual(recorded.map { $0.text("checksum") }, migrator.migrations.map(\.checksum))
        XCTAssertEqual(recorded.map { $0.text("name") }, migrator.migrations.map(\.name))
        for row in recorded {
            XCTAssertEqual(try db.scalar("SELECT is_utc_timestamp($1)", [row["applied_at"] ?? .null]), .boolean(true))
        }
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM negotiations"), .integer(0))
    }

    func testAChangedAppliedMigrationIsRefused() throws {
        try loadMigrator().migrate(db)
        let copy = try copiedMigrations()
        let file = copy.appendingPathComponent("0002_app_settings.sql")
        try (try String(contentsOf: file, encoding: .utf8) + "\n-- edited later\n").write(to: file, atomically: true, encoding: .utf8)
        let tampered = try loadMigrator(copy.path)
        let attempts: [() throws -> Void] = [{ try tampered.migrate(self.db) }, { _ = try tampered.pending(self.db) }]
        for attempt in attempts {
            XCTAssertThrowsError(try attempt()) { error in
                guard case MigrationError.checksumMismatch(2, "app_settings") = error else { return XCTFail("\(error)") }
            }
        }
        // A tampered record is refused the same way, and nothing runs.
        try db.run("UPDATE schema_migrations SET checksum = 'f00d' WHERE version = 1")
        XCTAssertThrowsError(try loadMigrator().migrate(db)) { error in
            guard case MigrationError.checksumMismatch(1, "initial") = error else { return XCTFail("\(error)") }
        }
    }

    func testAnAppliedMigrationWithoutAFileIsRefused() throws {
        try loadMigrator().migrate(db)
        try db.run("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (99, 'later', 'x', '2026-01-01T00:00:00.000Z')")
        XCTAssertThrowsError(try loadMigrator().migrate(db)) { error in
            guard case MigrationError.unknownAppliedMigration(99, "later") = error else { return XCTFail("\(error)") }
        }
    }

    func testAFailingMigrationRollsBackAndStopsTheRest() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-pg-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        try "CREATE TABLE country (code text PRIMARY KEY);".write(to: directory.appendingPathComponent("0001_country.sql"), atomically: true, encoding: .utf8)
        try "CREATE TABLE tariff (id bigint); SELECT no_such_function();".write(to: directory.appendingPathComponent("0002_tariff.sql"), atomically: true, encoding: .utf8)
        try "CREATE TABLE later (id bigint);".write(to: directory.appendingPathComponent("0003_later.sql"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try loadMigrator(directory.path).migrate(db)) { error in
            guard let error = error as? PostgresMigrationError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.migration?.identifier, "0002_tariff")
            XCTAssertTrue("\(error)".hasPrefix("migration 0002_tariff failed and was rolled back: function no_such_function() does not exist"), "\(error)")
        }
        XCTAssertEqual(try appliedVersions(), [1])
        XCTAssertEqual(try db.scalar("SELECT to_regclass('tariff') IS NULL"), .boolean(true), "the failed migration's table is gone")
        XCTAssertEqual(try db.scalar("SELECT to_regclass('later') IS NULL"), .boolean(true), "nothing after it ran")
    }

    /// Two instances starting at once: each migration is applied by exactly one of them, and both end up to date.
    func testTwoMigratorsRacingApplyEachMigrationOnce() throws {
        let migrator = try loadMigrator()
        let results = PGLockedResults()
        let start = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        let url = database.scopedURL
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                start.wait()
                do {
                    let connection = try PGConnection(url)
                    defer { connection.close() }
                    results.append(.success(try migrator.migrate(connection).map(\.version)))
                } catch {
                    results.append(.failure(error))
                }
            }
        }
        start.signal()
        start.signal()
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        let applied = try results.all.map { try $0.get() }
        XCTAssertEqual(applied.count, 2)
        XCTAssertEqual(applied.flatMap { $0 }.sorted(), migrator.migrations.map(\.version), "\(applied)")
        XCTAssertEqual(try appliedVersions(), migrator.migrations.map { Int64($0.version) })
        XCTAssertTrue(try migrator.isUpToDate(db))
    }
}

/// Results gathered from test threads, guarded by a lock.
final class PGLockedResults: @unchecked Sendable {
    // @unchecked Sendable: `results` is only touched while `lock` is held.
    private let lock = NSLock()
    private var results: [Result<[Int], Error>] = []

    func append(_ result: Result<[Int], Error>) {
        lock.lock()
        results.append(result)
        lock.unlock()
    }

    var all: [Result<[Int], Error>] {
        lock.lock()
        defer { lock.unlock() }
        return results
    }
}
