import Foundation
import PostgreSQL

/// A PostgreSQL database as one instance uses it: a pool of reader connections (`--db-readers`) and one dedicated
/// writer connection, the writer thread's, all opened at start so that a wrong URL fails there.
///
/// `@unchecked Sendable`: `executors` is guarded by `lock`; the writer connection is used only while `writerLock`
/// is held, and each pooled connection (with its executor) by one borrower at a time, as `PGPool` lends it.
final class PostgresDatabase: @unchecked Sendable {
    private let readers: PGPool
    private let writer: PostgresExecutor
    private let writerLock = NSLock()
    private let migrator: PostgresMigrator
    /// One executor per pooled connection, so each keeps its renumbered statements across borrows.
    private var executors: [ObjectIdentifier: PostgresExecutor] = [:]
    private let lock = NSLock()
    let appliedAtOpen: [String]

    init(url: String, migrationsDirectory: String, readers count: Int) throws {
        let masked = PGConninfo.masked(url)
        do {
            migrator = try PostgresMigrator.load(directory: migrationsDirectory)
        } catch {
            throw StartupError("\(error)")
        }
        let writerConnection: PGConnection
        do {
            writerConnection = try PGConnection(url)
            readers = try PGPool(url, size: count, borrowTimeout: .seconds(30), openEagerly: true)
        } catch let error as PGError {
            let reason = Self.oneLine(PGConninfo.maskingPassword(of: url, in: error.message))
            // The wrapper's connect failure names the masked URL already ("cannot connect to ...: why").
            throw StartupError(reason.hasPrefix("cannot connect") ? reason : "cannot open the database \(masked): \(reason)")
        }
        writer = PostgresExecutor(writerConnection)
        do {
            appliedAtOpen = try migrator.migrate(writerConnection).map(\.identifier)
        } catch {
            writerConnection.close()
            readers.close()
            throw StartupError(Self.oneLine(PGConninfo.maskingPassword(of: url, in: "\(error)")))
        }
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    func read<T>(_ body: (PostgresExecutor) throws -> T) throws -> T {
        try StorageError.translating {
            try readers.withConnection { connection in try body(executor(for: connection)) }
        }
    }

    /// A reader until `release` (see `Database.leaseReader`).
    func leaseReader() throws -> (executor: PostgresExecutor, release: () -> Void) {
        let connection = try StorageError.translating { try readers.checkOut() }
        return (executor(for: connection), { [readers] in readers.checkIn(connection) })
    }

    /// The writer connection, reconnected first if the server dropped it.
    func withWriter<T>(_ body: (PostgresExecutor) throws -> T) throws -> T {
        writerLock.lock()
        defer { writerLock.unlock() }
        return try StorageError.translating {
            if !writer.db.isHealthy { try writer.db.reset() }
            return try body(writer)
        }
    }

    /// Whether the migrations are applied, asked on a reader; when the server cannot be reached, why not (the
    /// connection's message, password masked), so that `/readyz` says it without trying a write as well.
    func migrationCheck() -> (migrated: Bool, unreachable: String?) {
        do {
            return (try readers.withConnection { try migrator.isUpToDate($0) }, nil)
        } catch let error as PGError where error.isServerGone {
            return (false, "the database is unreachable: " + Self.oneLine(error.message))
        } catch {
            return (false, nil)
        }
    }

    func close() {
        readers.close()
        writerLock.lock()
        writer.db.close()
        writerLock.unlock()
    }

    private func executor(for connection: PGConnection) -> PostgresExecutor {
        lock.lock()
        defer { lock.unlock() }
        if let executor = executors[ObjectIdentifier(connection)] { return executor }
        let executor = PostgresExecutor(connection)
        executors[ObjectIdentifier(connection)] = executor
        return executor
    }
}
