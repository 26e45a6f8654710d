import Foundation
import XCTest
@testable import SQLite

final class MigratorTests: XCTestCase {
    private var database: TemporaryDatabase!
    private var db: SQLiteConnection!
    private var migrationsDirectory: URL!

    override func setUpWithError() throws {
        database = try TemporaryDatabase()
        db = try SQLiteConnection(path: database.path)
        try db.execute("PRAGMA foreign_keys = ON")
        migrationsDirectory = database.directory.appendingPathComponent("migrations")
        try FileManager.default.createDirectory(at: migrationsDirectory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        db?.close()
        database?.remove()
    }

    private let initialSQL = """
        CREATE TABLE country (code TEXT PRIMARY KEY) STRICT;
        INSERT INTO country (code) VALUES ('NZ');
        """
    private let secondSQL = """
        CREATE TABLE tariff (id INTEGER PRIMARY KEY, country TEXT NOT NULL REFERENCES country(code)) STRICT;
        INSERT INTO tariff (country) VALUES ('NZ');
        """

    private func write(_ file: String, _ sql: String) throws {
        try sql.write(to: migrationsDirectory.appendingPathComponent(file), atomically: true, encoding: .utf8)
    }

    private func load() throws -> Migrator { try Migrator.load(directory: migrationsDirectory.path) }

    private func tableExists(_ name: String) throws -> Bool {
        try db.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(name)]) != nil
    }

    private func appliedVersions() throws -> [Int64?] {
        try db.query("SELECT version FROM schema_migrations ORDER BY version").map { $0.int("version") }
    }

    func testAppliesInOrderOnceAndRecordsChecksums() throws {
        // Written out of order, and with files that are not migrations: the order comes from the numbers.
        try write("0002_tariff.sql", secondSQL)
        try write("0001_initial.sql", initialSQL)
        try write("README.md", "not a migration")
        let migrator = try load()
        XCTAssertEqual(migrator.migrations.map(\.identifier), ["0001_initial", "0002_tariff"])
        XCTAssertEqual(try migrator.pending(db).map(\.version), [1, 2])
        XCTAssertFalse(try migrator.isUpToDate(db))

        XCTAssertEqual(try migrator.migrate(db).map(\.version), [1, 2])
        XCTAssertEqual(try migrator.migrate(db), [])
        XCTAssertTrue(try migrator.isUpToDate(db))
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM tariff"), .integer(1))

        let recorded = try db.query("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
        XCTAssertEqual(recorded.map { $0.text("name") }, ["initial", "tariff"])
        XCTAssertEqual(recorded[0].text("checksum"), SHA256.hex(initialSQL.utf8))
        XCTAssertEqual(recorded[1].text("checksum"), migrator.migrations[1].checksum)
        XCTAssertTrue(recorded[0].text("applied_at")?.hasSuffix("Z") ?? false)
        // Enforcement is switched off only while migrating.
        XCTAssertEqual(try db.scalar("PRAGMA foreign_keys"), .integer(1))
    }

    func testChangedAppliedMigrationStopsEverything() throws {
        try write("0001_initial.sql", initialSQL)
        try load().migrate(db)
        try write("0001_initial.sql", initialSQL + "\n-- edited later\n")
        try write("0002_tariff.sql", secondSQL)
        XCTAssertThrowsError(try load().migrate(db)) { error in
            guard case MigrationError.checksumMismatch(1, "initial") = error else { return XCTFail("\(error)") }
            XCTAssertEqual("\(error)", "migration 0001_initial was changed after it was applied (checksum differs); "
                + "restore the file or use a new migration")
        }
        XCTAssertFalse(try tableExists("tariff"))
        XCTAssertEqual(try appliedVersions(), [1])
        XCTAssertThrowsError(try load().isUpToDate(db))
    }

    func testAppliedMigrationMissingFromFilesIsRejected() throws {
        let first = Migration(version: 1, name: "initial", sql: initialSQL)
        let second = Migration(version: 2, name: "tariff", sql: secondSQL)
        try Migrator(migrations: [first, second]).migrate(db)
        XCTAssertThrowsError(try Migrator(migrations: [first]).migrate(db)) { error in
            guard case MigrationError.unknownAppliedMigration(2, "tariff") = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("0002_tariff"))
        }
    }

    func testFailingMigrationRollsBackEntirelyAndIsNotRecorded() throws {
        let migrator = Migrator(migrations: [
            Migration(version: 1, name: "initial", sql: initialSQL),
            Migration(version: 2, name: "broken", sql: "CREATE TABLE half_done (x INTEGER) STRICT; INSERT INTO nowhere VALUES (1);"),
            Migration(version: 3, name: "after", sql: "CREATE TABLE after_broken (x INTEGER) STRICT;"),
        ])
        XCTAssertThrowsError(try migrator.migrate(db)) { error in
            guard case MigrationError.failed(2, "broken", let underlying) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(underlying.message.contains("no such table: nowhere"), underlying.message)
            XCTAssertTrue("\(error)".hasPrefix("migration 0002_broken failed and was rolled back"), "\(error)")
        }
        XCTAssertTrue(try tableExists("country"))
        XCTAssertFalse(try tableExists("half_done"))
        XCTAssertFalse(try tableExists("after_broken"))
        XCTAssertEqual(try appliedVersions(), [1])
        XCTAssertFalse(db.isInTransaction)
        XCTAssertEqual(try db.scalar("PRAGMA foreign_keys"), .integer(1))
    }

    func testMigrationLeavingDanglingReferenceFailsForeignKeyCheck() throws {
        let migrator = Migrator(migrations: [
            Migration(version: 1, name: "initial", sql: initialSQL),
            Migration(version: 2, name: "dangling", sql: """
                CREATE TABLE tariff (id INTEGER PRIMARY KEY, country TEXT NOT NULL REFERENCES country(code)) STRICT;
                INSERT INTO tariff (country) VALUES ('XX');
                """),
        ])
        XCTAssertThrowsError(try migrator.migrate(db)) { error in
            guard case MigrationError.failed(2, _, let underlying) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(underlying.isForeignKeyViolation)
            XCTAssertTrue(underlying.message.contains("tariff"), underlying.message)
        }
        XCTAssertFalse(try tableExists("tariff"))
        XCTAssertEqual(try appliedVersions(), [1])
    }

    func testBadFileNamesAreRejected() throws {
        for bad in ["initial.sql", "0001-initial.sql", "0001_.sql", "_initial.sql", "0001_has space.sql", "x1_a.sql"] {
            let directory = migrationsDirectory.appendingPathComponent(UUID().uuidString)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try "SELECT 1;".write(to: directory.appendingPathComponent(bad), atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Migrator.load(directory: directory.path), bad) { error in
                guard case MigrationError.badFileName(bad) = error else { return XCTFail("\(bad): \(error)") }
            }
        }
    }

    func testDuplicateVersionAndUnreadableDirectory() throws {
        try write("0001_initial.sql", initialSQL)
        try write("1_again.sql", secondSQL)
        XCTAssertThrowsError(try load()) { error in
            guard case MigrationError.duplicateVersion(1) = error else { return XCTFail("\(error)") }
        }
        let missing = migrationsDirectory.appendingPathComponent("absent").path
        XCTAssertThrowsError(try Migrator.load(directory: missing)) { error in
            guard case MigrationError.directoryUnreadable(missing) = error else { return XCTFail("\(error)") }
        }
    }

    func testPendingWorksBeforeTheBookkeepingTableExists() throws {
        let migrator = Migrator(migrations: [Migration(version: 1, name: "initial", sql: initialSQL)])
        XCTAssertEqual(try migrator.pending(db).map(\.version), [1])
        XCTAssertFalse(try tableExists("schema_migrations"))
    }
}
