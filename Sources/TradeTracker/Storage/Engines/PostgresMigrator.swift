import PostgreSQL
import SQLite

/// Applies `migrations/postgres/NNNN_name.sql` to a PostgreSQL database with the rules of the SQLite `Migrator`:
/// the same file names and numbering, the same SHA-256 checksums, the same `schema_migrations` bookkeeping, and
/// the same refusal of a changed or unknown applied migration (`Migrator.pending(applied:)` decides all of that).
/// Only reading and writing the bookkeeping, the transactions and the lock are PostgreSQL's, here.
///
/// Each migration runs in its own transaction that first takes a transaction-scoped advisory lock for the
/// current schema, then re-reads the bookkeeping: several instances starting at once each apply a migration
/// at most once between them, and a crash releases the lock with the transaction.
struct PostgresMigrator: Sendable {
    let files: Migrator

    static func load(directory: String) throws -> PostgresMigrator {
        PostgresMigrator(files: try Migrator.load(directory: directory))
    }

    var migrations: [Migration] { files.migrations }

    /// Migrations not yet applied, after checking the applied ones still match their files. Creates nothing.
    func pending(_ db: PGConnection) throws -> [Migration] {
        try files.pending(applied: try appliedChecksums(db))
    }

    func isUpToDate(_ db: PGConnection) throws -> Bool {
        try pending(db).isEmpty
    }

    /// Verifies the applied migrations, then applies each pending one in its own locked transaction and records
    /// it. Returns those this call applied (empty when up to date or another instance applied them meanwhile).
    @discardableResult
    func migrate(_ db: PGConnection) throws -> [Migration] {
        // Two sessions running CREATE TABLE IF NOT EXISTS at once can both pass the check; under the lock only one does.
        try mapFailure(of: nil) {
            try db.transaction {
                try PostgresMigrator.lock(db)
                try db.execute(PostgresMigrator.createTableSQL)
            }
        }
        var applied: [Migration] = []
        for migration in try pending(db) where try apply(migration, db) {
            applied.append(migration)
        }
        // Plans prepared before a migration may read tables it changed.
        if !applied.isEmpty { db.clearStatementCache() }
        return applied
    }

    /// False when another instance applied the same migration since `pending` was read.
    private func apply(_ migration: Migration, _ db: PGConnection) throws -> Bool {
        try mapFailure(of: migration) {
            try db.transaction {
                try PostgresMigrator.lock(db)
                let recorded = try db.scalar("SELECT checksum FROM schema_migrations WHERE version = $1",
                                             [.integer(Int64(migration.version))])
                if try Migrator.isApplied(migration, recorded: recorded.map { $0 == .text(migration.checksum) }) { return false }
                try db.execute(migration.sql)
                try db.run("""
                    INSERT INTO schema_migrations (version, name, checksum, applied_at)
                    VALUES ($1, $2, $3, \(SQLDialect.postgres.now))
                    """, [.integer(Int64(migration.version)), .text(migration.name), .text(migration.checksum)])
                return true
            }
        }
    }

    private func mapFailure<T>(of migration: Migration?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PGError {
            throw PostgresMigrationError(migration: migration, underlying: error)
        }
    }

    /// Version -> (name, checksum) of what the database says was applied; empty before the first run.
    private func appliedChecksums(_ db: PGConnection) throws -> [Int: (name: String, checksum: String)] {
        do {
            guard try db.scalar("SELECT to_regclass('schema_migrations') IS NOT NULL") == .boolean(true) else { return [:] }
            let rows = try db.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
            return Migrator.applied(rows.map { ($0.int("version"), $0.text("name"), $0.text("checksum")) })
        } catch let error as PGError {
            throw PostgresMigrationError(migration: nil, underlying: error)
        }
    }

    /// Held until the transaction ends. Keyed by the current schema, so databases in different schemas of one
    /// cluster (the tests' schema per test) migrate independently; the first key says "trade-tracker migrations".
    private static func lock(_ db: PGConnection) throws {
        _ = try db.query("SELECT pg_advisory_xact_lock(\(lockClass), current_schema()::regnamespace::oid::int4)")
    }

    /// "ttmg" as an int4: the advisory lock key space is shared with every other client of the database.
    static let lockClass: Int32 = 0x7474_6d67

    /// The columns of the SQLite `schema_migrations`, so both engines keep the same record.
    static let createTableSQL = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version bigint PRIMARY KEY,
            name text NOT NULL,
            checksum text NOT NULL,
            applied_at text NOT NULL
        )
        """
}

/// A PostgreSQL migration (or its bookkeeping) failed and was rolled back; one line a person can act on.
struct PostgresMigrationError: Error, CustomStringConvertible {
    /// Nil when the bookkeeping failed rather than a migration.
    let migration: Migration?
    let underlying: PGError

    var description: String {
        let reason = underlying.message + (underlying.detail.map { " (\($0))" } ?? "")
        guard let migration else { return "cannot read or create schema_migrations: \(reason)" }
        return "migration \(migration.identifier) failed and was rolled back: \(reason)"
    }
}
