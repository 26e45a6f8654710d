import CSQLite
import Foundation

/// Applies numbered SQL migrations in order, each in its own transaction, and refuses to run
/// against a database whose applied migrations no longer match the files.
public struct Migrator: Sendable {
    /// Sorted by version.
    public let migrations: [Migration]

    /// Migrations are sorted by version; a repeated version is a programming error here
    /// (`load` reports it as `MigrationError.duplicateVersion` instead).
    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        precondition(Set(migrations.map(\.version)).count == migrations.count, "duplicate migration version")
    }

    /// Reads `NNNN_name.sql` files from `directory`. Other files are ignored, but a `.sql`
    /// file with any other name is an error, so a typo cannot silently skip a migration.
    public static func load(directory: String) throws -> Migrator {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError.directoryUnreadable(directory)
        }
        var byVersion: [Int: Migration] = [:]
        for file in files.sorted() where file.hasSuffix(".sql") {
            guard let (version, name) = parse(fileName: file) else { throw MigrationError.badFileName(file) }
            let path = (directory as NSString).appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: path),
                  let sql = String(data: data, encoding: .utf8) else {
                throw MigrationError.fileUnreadable(path)
            }
            guard byVersion[version] == nil else { throw MigrationError.duplicateVersion(version) }
            byVersion[version] = Migration(version: version, name: name, sql: sql)
        }
        return Migrator(migrations: Array(byVersion.values))
    }

    /// `0001_initial.sql` -> (1, "initial"); names are letters, digits, `_` and `-`.
    static func parse(fileName: String) -> (Int, String)? {
        let stem = fileName.dropLast(".sql".count)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let version = Int(digits),
              !name.isEmpty,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            return nil
        }
        return (version, String(name))
    }

    /// Migrations not yet applied, after checking the applied ones still match their files.
    /// Does not create the bookkeeping table, so it works on a read-only connection.
    public func pending(_ db: SQLiteConnection) throws -> [Migration] {
        try pending(applied: try appliedChecksums(db))
    }

    /// Migrations not yet applied, given what a database records as applied (version -> name and checksum),
    /// after checking the applied ones still match their files. The rules of every engine that keeps the same
    /// `schema_migrations` bookkeeping; only reading and writing that table is the engine's.
    public func pending(applied: [Int: (name: String, checksum: String)]) throws -> [Migration] {
        try verify(applied)
        return migrations.filter { applied[$0.version] == nil }
    }

    public func isUpToDate(_ db: SQLiteConnection) throws -> Bool {
        try pending(db).isEmpty
    }

    /// Verifies the applied migrations, then applies each pending one in its own
    /// BEGIN IMMEDIATE transaction and records it. Returns those applied (empty when up to date).
    ///
    /// Foreign key enforcement is switched off while a migration runs, because SQLite's
    /// recommended table rebuild (create, copy, drop, rename) would otherwise cascade or fail;
    /// `PRAGMA foreign_key_check` before COMMIT then rejects a migration that leaves dangling
    /// references. The pragma is a no-op inside a transaction, so call this outside one.
    @discardableResult
    public func migrate(_ db: SQLiteConnection) throws -> [Migration] {
        try db.execute(Migrator.createTableSQL)
        let pending = try self.pending(db)
        guard !pending.isEmpty else { return [] }

        let foreignKeysWereOn = try db.scalar("PRAGMA foreign_keys") == .integer(1)
        if foreignKeysWereOn { try db.execute("PRAGMA foreign_keys = OFF") }
        defer { if foreignKeysWereOn { try? db.execute("PRAGMA foreign_keys = ON") } }

        var applied: [Migration] = []
        for migration in pending {
            if try apply(migration, db) { applied.append(migration) }
        }
        return applied
    }

    /// False when another process applied the same migration since `pending` was read.
    private func apply(_ migration: Migration, _ db: SQLiteConnection) throws -> Bool {
        do {
            return try db.transaction(.immediate) {
                // Re-read under the write lock: another process may have migrated meanwhile.
                let recorded = try db.scalar("SELECT checksum FROM schema_migrations WHERE version = ?",
                                             [.integer(Int64(migration.version))])
                if try Migrator.isApplied(migration, recorded: recorded.map { $0 == .text(migration.checksum) }) { return false }
                try db.execute(migration.sql)
                try Migrator.checkForeignKeys(db)
                try db.run(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                        + "VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                    [.integer(Int64(migration.version)), .text(migration.name), .text(migration.checksum)])
                return true
            }
        } catch let error as SQLiteError {
            throw MigrationError.failed(version: migration.version, name: migration.name, underlying: error)
        }
    }

    /// Whether `migration` is already applied, given what the bookkeeping records for its version as re-read under
    /// the engine's write lock: nil when nothing, else whether the recorded checksum is the file's (false throws).
    public static func isApplied(_ migration: Migration, recorded matchesFile: Bool?) throws -> Bool {
        guard let matchesFile else { return false }
        guard matchesFile else { throw MigrationError.checksumMismatch(version: migration.version, name: migration.name) }
        return true
    }

    private static func checkForeignKeys(_ db: SQLiteConnection) throws {
        let violations = try db.query("PRAGMA foreign_key_check")
        guard let first = violations.first else { return }
        let table = first.text("table") ?? "?"
        let parent = first.text("parent") ?? "?"
        let rowID = first.int("rowid").map(String.init) ?? "?"
        throw SQLiteError(
            code: SQLiteResultCode.constraintForeignKey,
            message: "\(violations.count) foreign key violation(s), e.g. row \(rowID) of \(table) references a missing \(parent)",
            sql: "PRAGMA foreign_key_check")
    }

    /// Version -> (name, checksum) of what the database says was applied; empty before the first run.
    private func appliedChecksums(_ db: SQLiteConnection) throws -> [Int: (name: String, checksum: String)] {
        let tableExists = try db.scalar(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'") != nil
        guard tableExists else { return [:] }
        let rows = try db.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        return Migrator.applied(rows.map { ($0.int("version"), $0.text("name"), $0.text("checksum")) })
    }

    /// The `schema_migrations` rows (version, name, checksum) as `pending(applied:)` takes them; a row with a
    /// NULL is skipped (the table's columns are NOT NULL, so only a hand-edited table has one).
    public static func applied(_ rows: [(Int64?, String?, String?)]) -> [Int: (name: String, checksum: String)] {
        var applied: [Int: (name: String, checksum: String)] = [:]
        for case let (version?, name?, checksum?) in rows { applied[Int(version)] = (name, checksum) }
        return applied
    }

    private func verify(_ applied: [Int: (name: String, checksum: String)]) throws {
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, record) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = known[version] else {
                throw MigrationError.unknownAppliedMigration(version: version, name: record.name)
            }
            guard migration.checksum == record.checksum else {
                throw MigrationError.checksumMismatch(version: version, name: migration.name)
            }
        }
    }

    static let createTableSQL = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at TEXT NOT NULL
        ) STRICT
        """
}
