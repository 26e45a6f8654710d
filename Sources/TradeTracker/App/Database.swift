import Foundation
import PostgreSQL
import SQLite

/// The opened, migrated database on either engine, and the checks `/readyz` needs. Repositories reach it through
/// `read` (a reader) and `withWriter` (the one write connection, the writer thread's); both hand an executor.
final class Database: Sendable {
    enum Storage: Sendable {
        /// The file, a pool of read-only readers and one writer (WAL).
        case sqlite(DatabasePool, Migrator)
        /// A pool of readers and one dedicated writer connection.
        case postgres(PostgresDatabase)
    }

    let location: DatabaseLocation
    let storage: Storage
    /// Migrations this open applied (`0001_initial` …), empty when the database was up to date.
    let appliedAtOpen: [String]

    /// Opens and applies pending migrations (SQLite: `migrationsDirectory`; PostgreSQL: its `postgres` folder);
    /// throws a `StartupError` that says what to fix.
    init(location: DatabaseLocation, migrationsDirectory: String, readers: Int, synchronous: Synchronous) throws {
        self.location = location
        switch location {
        case .sqlite(let path):
            let (pool, migrator, applied) = try Database.openSQLite(path: path, migrationsDirectory: migrationsDirectory,
                                                                   readers: readers, synchronous: synchronous)
            storage = .sqlite(pool, migrator)
            appliedAtOpen = applied
        case .postgres(let url):
            let postgres = try PostgresDatabase(url: url, migrationsDirectory: (migrationsDirectory as NSString).appendingPathComponent("postgres"),
                                                readers: readers)
            storage = .postgres(postgres)
            appliedAtOpen = postgres.appliedAtOpen
        }
    }

    private static func openSQLite(path: String, migrationsDirectory: String, readers: Int,
                                   synchronous: Synchronous) throws -> (DatabasePool, Migrator, [String]) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw StartupError("cannot create the database folder \(folder): \(error.localizedDescription)")
            }
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw StartupError("the database path \(path) is a directory")
        }
        let migrator: Migrator, pool: DatabasePool
        do {
            migrator = try Migrator.load(directory: migrationsDirectory)
            pool = try DatabasePool(DatabaseConfiguration(path: path, readerCount: readers, synchronous: synchronous))
        } catch let error as SQLiteError {
            throw StartupError("cannot open the database \(path): \(error.message)")
        } catch {
            throw StartupError("\(error)")
        }
        do {
            let applied = try pool.withWriter { db in
                let applied = try migrator.migrate(db)
                // Records another program committed without indexing them (see SearchIndex).
                try db.execute(SearchIndex.flushSQL)
                return applied
            }
            return (pool, migrator, applied.map(\.identifier))
        } catch {
            pool.close()
            throw StartupError("\(error)")
        }
    }

    var dialect: SQLDialect { location.engine == .sqlite ? .sqlite : .postgres }

    /// The SQLite pool, for what only a file has (backups, `data_version`); nil on PostgreSQL.
    var sqlitePool: DatabasePool? {
        if case .sqlite(let pool, _) = storage { return pool }
        return nil
    }

    /// `body` on a reader connection.
    func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        switch storage {
        case .sqlite(let pool, _): return try pool.read { try body($0) }
        case .postgres(let postgres): return try postgres.read { try body($0) }
        }
    }

    /// A reader taken out of the pool until `release()`, for a read that spans threads (a streamed export).
    final class ReaderLease: @unchecked Sendable {
        // `@unchecked Sendable`: the holder uses `executor` from one thread at a time; `release` gives the
        // connection back exactly once (`released` is guarded by `lock`), and the pools' check-ins are thread-safe.
        let executor: any SQLExecutor
        private let giveBack: () -> Void
        private let lock = NSLock()
        private var released = false

        init(executor: any SQLExecutor, release: @escaping () -> Void) {
            self.executor = executor
            giveBack = release
        }

        /// Ends any transaction the holder left open and gives the reader back. Later calls do nothing.
        func release() {
            lock.lock()
            let first = !released
            released = true
            lock.unlock()
            if first { giveBack() }
        }

        deinit { release() }
    }

    func leaseReader() throws -> ReaderLease {
        switch storage {
        case .sqlite(let pool, _):
            let lease = try pool.leaseReader()
            return ReaderLease(executor: lease.connection, release: { lease.release() })
        case .postgres(let postgres):
            let (executor, release) = try postgres.leaseReader()
            return ReaderLease(executor: executor, release: release)
        }
    }

    /// `body` on the write connection, outside any transaction of its own (the writer thread opens them).
    func withWriter<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        switch storage {
        case .sqlite(let pool, _): return try pool.withWriter { try body($0) }
        case .postgres(let postgres): return try postgres.withWriter { try body($0) }
        }
    }

    /// `body` in one transaction on the write connection (start-up work, before the writer thread takes it).
    func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        try withWriter { db in try db.transaction { try body(db) } }
    }

    struct Readiness: Sendable {
        var open: Bool
        var writable: Bool
        var migrated: Bool
        /// Why the database is not usable, for operators; nil when it is.
        var problem: String?
    }

    /// Open and migrated (read on a reader), and writable: `writeProbe` commits a real write (nil) or says why not.
    func readiness(writeProbe: () -> String?) -> Readiness {
        let migrated: Bool
        switch storage {
        case .sqlite(let pool, let migrator): migrated = (try? pool.read { try migrator.isUpToDate($0) }) ?? false
        case .postgres(let postgres):
            let check = postgres.migrationCheck()
            // The server is away: a write probe would only fail the same way, after the writer's own attempt.
            if let unreachable = check.unreachable { return Readiness(open: false, writable: false, migrated: false, problem: unreachable) }
            migrated = check.migrated
        }
        let problem = writeProbe()
        return Readiness(open: migrated || problem == nil, writable: problem == nil, migrated: migrated, problem: problem)
    }

    func close() {
        switch storage {
        case .sqlite(let pool, _): pool.close()
        case .postgres(let postgres): postgres.close()
        }
    }
}

/// A reason the server cannot start, printed as one line.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
