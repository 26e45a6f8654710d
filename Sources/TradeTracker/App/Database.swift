import Foundation
import SQLite

/// The opened, migrated database and the checks `/readyz` needs.
final class Database: Sendable {
    let pool: DatabasePool
    let migrator: Migrator
    /// Migrations this open applied (`0001_initial` …), empty when the database was up to date.
    let appliedAtOpen: [String]

    /// Opens (creating the folder and file) and applies pending migrations; throws a `StartupError` that says what to fix.
    init(path: String, migrationsDirectory: String, readers: Int, synchronous: Synchronous) throws {
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
        do {
            migrator = try Migrator.load(directory: migrationsDirectory)
            pool = try DatabasePool(DatabaseConfiguration(path: path, readerCount: readers, synchronous: synchronous))
        } catch let error as SQLiteError {
            throw StartupError("cannot open the database \(path): \(error.message)")
        } catch {
            throw StartupError("\(error)")
        }
        let pool = self.pool, migrator = self.migrator
        do {
            let applied = try pool.withWriter { db in
                let applied = try migrator.migrate(db)
                // Records another program committed without indexing them (see SearchIndex).
                try db.execute(SearchIndex.flushSQL)
                return applied
            }
            appliedAtOpen = applied.map(\.identifier)
        } catch {
            pool.close()
            throw StartupError("\(error)")
        }
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
        let migrated = (try? pool.read { try migrator.isUpToDate($0) }) ?? false
        let problem = writeProbe()
        return Readiness(open: migrated || problem == nil, writable: problem == nil, migrated: migrated, problem: problem)
    }

    func close() { pool.close() }
}

/// A reason the server cannot start, printed as one line.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
