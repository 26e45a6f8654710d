import Foundation
import SQLite

/// `trade-tracker backup` / `POST /v1/admin/backup` and `trade-tracker check`: work on the database file while a
/// server may be using it (WAL lets a separate connection read a consistent snapshot).
public enum DatabaseMaintenance {
    /// A finished backup: where, how large, and its SHA-256.
    public struct Backup: Sendable {
        public let path: String
        public let bytes: Int
        public let sha256: String
    }

    /// Copies the database at `source` to `destination` with the online backup API: written to a temporary name in
    /// the same folder, flushed, then renamed, so `destination` is only ever a whole backup.
    public static func backup(database source: String, to destination: String) throws -> Backup {
        if let refusal = DatabaseLocation(source).sqliteOnly("backup", instead: "pg_dump (or the server's own backups)") { throw refusal }
        let folder = (destination as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        guard FileManager.default.fileExists(atPath: source) else { throw StartupError("no database at \(source)") }
        let temporary = destination + ".partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let connection = try SQLiteConnection(path: source, flags: [.readOnly])
            defer { connection.close() }
            try connection.backup(to: temporary)
            try flush(temporary)
            guard rename(temporary, destination) == 0 else {
                throw StartupError("cannot move the backup to \(destination): \(String(cString: strerror(errno)))")
            }
            if !folder.isEmpty { try? flush(folder) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if let error = error as? SQLiteError { throw StartupError("backup failed: \(error.message)") }
            throw error
        }
        let (hex, bytes) = try SHA256.hexOfFile(destination)
        return Backup(path: destination, bytes: bytes, sha256: hex)
    }

    /// fsync of a file or folder, so a rename that follows survives a power loss.
    static func flush(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw StartupError("cannot open \(path) to flush it") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StartupError("cannot flush \(path): \(String(cString: strerror(errno)))") }
    }

    /// `PRAGMA integrity_check` and `PRAGMA foreign_key_check`: the problems found (empty when both are clean).
    public static func check(database path: String) throws -> [String] {
        if let refusal = DatabaseLocation(path).sqliteOnly("check", instead: "the server's own tools (amcheck, pg_dump)") { throw refusal }
        guard FileManager.default.fileExists(atPath: path) else { throw StartupError("no database at \(path)") }
        do {
            let connection = try SQLiteConnection(path: path, flags: [.readOnly])
            defer { connection.close() }
            var problems: [String] = []
            for row in try connection.query("PRAGMA integrity_check") {
                if let text = row.text(0), text != "ok" { problems.append("integrity: \(text)") }
            }
            for row in try connection.query("PRAGMA foreign_key_check") {
                problems.append("foreign key: row \(row.int("rowid").map(String.init) ?? "?") of \(row.text("table") ?? "?") "
                                + "refers to a missing \(row.text("parent") ?? "?")")
            }
            return problems
        } catch let error as SQLiteError {
            return ["the database cannot be read: \(error.message)"]
        }
    }
}
