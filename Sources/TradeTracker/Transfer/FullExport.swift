import Foundation
import JSON
import PostgreSQL
import SQLite

/// `trade-tracker export DIR`: every resource as NDJSON and CSV — the same bytes as its list export over HTTP — and
/// `MANIFEST.json` naming each file with its rows, size and SHA-256, the change log's last seq, each negotiation's
/// `record_complete_through`, the time, the schema's migrations and each resource's id counter. Everything is
/// read in one read-only snapshot on a connection of its own (SQLite's WAL, PostgreSQL's REPEATABLE READ: a running
/// server keeps writing meanwhile, and the files show one moment), written into a temporary folder beside DIR, flushed, and renamed to
/// DIR only once complete.
public enum FullExport {
    /// One written file.
    public struct File: Sendable, Equatable {
        public let name: String
        public let resource: String
        public let format: String
        public let rows: Int
        public let bytes: Int
        public let sha256: String
    }

    public struct Summary: Sendable {
        public let directory: String
        public let files: [File]
        public let lastChangeSeq: Int64
        /// Rows of every resource (each counted once, not once per format).
        public var rows: Int { files.filter { $0.format == "ndjson" }.reduce(0) { $0 + $1.rows } }
    }

    public static let manifestName = "MANIFEST.json"
    static let formatName = "trade-tracker-export"
    static let formatVersion = 1

    /// Writes the export of the database at `path` to `destination`, which must not exist yet (or be an empty
    /// folder). The database must be migrated to the migrations in `migrationsDirectory` (the columns read are theirs).
    public static func run(database path: String, migrationsDirectory: String, to destination: String) throws -> Summary {
        try run(database: path, migrationsDirectory: migrationsDirectory, to: destination, clock: .system)
    }

    static func run(database path: String, migrationsDirectory: String, to destination: String, clock: TimeSource) throws -> Summary {
        let location = DatabaseLocation(path)
        if case .sqlite = location, !FileManager.default.fileExists(atPath: path) { throw StartupError("no database at \(path)") }
        try checkDestination(destination)
        let target = destination.hasSuffix("/") ? String(destination.dropLast()) : destination
        let partial = target + ".partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let summary = try inSnapshot(location, migrationsDirectory: migrationsDirectory) { db in
                try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: false)
                return try write(db, into: partial, directory: destination, now: clock.now(), today: clock.today())
            }
            try DatabaseMaintenance.flush(partial)
            // rename(2) replaces an empty folder of that name; one holding anything makes it fail (ENOTEMPTY).
            guard rename(partial, target) == 0 else {
                throw StartupError("cannot move the export to \(destination): \(String(cString: strerror(errno)))")
            }
            let parent = (target as NSString).deletingLastPathComponent
            try? DatabaseMaintenance.flush(parent.isEmpty ? "." : parent)
            return summary
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            if let error = StorageError(sorting: error) {
                throw StartupError("the export failed: \((error.underlying as? SQLiteError)?.message ?? "\(error)")")
            }
            throw error
        }
    }

    /// `body` in one read-only snapshot on a connection of its own, once the database is known to have every
    /// migration of `migrationsDirectory` (the columns read are theirs; PostgreSQL's are in its `postgres` folder).
    private static func inSnapshot<T>(_ location: DatabaseLocation, migrationsDirectory: String, _ body: (any SQLExecutor) throws -> T) throws -> T {
        let pending: [Migration]
        switch location {
        case .sqlite(let path):
            let connection = try SQLiteConnection(path: path, flags: [.readOnly])
            defer { connection.close() }
            pending = try Migrator.load(directory: migrationsDirectory).pending(connection)
            if pending.isEmpty { return try connection.snapshot { try body(connection) } }
        case .postgres(let url):
            let connection: PGConnection
            do {
                connection = try PGConnection(url)
            } catch let error as PGError {
                throw StartupError(PGConninfo.maskingPassword(of: url, in: error.message))
            }
            defer { connection.close() }
            pending = try PostgresMigrator.load(directory: (migrationsDirectory as NSString).appendingPathComponent("postgres")).pending(connection)
            let executor = PostgresExecutor(connection)
            if pending.isEmpty { return try executor.snapshot { try body(executor) } }
        }
        throw StartupError("the database \(location) lacks migration \(pending[0].identifier); run trade-tracker migrate first")
    }

    /// DIR must be new or an empty folder: an export never mixes with other files.
    private static func checkDestination(_ destination: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: destination, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else { throw StartupError("\(destination) exists and is not a folder; choose a new folder") }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: destination)) ?? ["?"]
        guard entries.isEmpty else { throw StartupError("\(destination) is not empty; choose a new or empty folder") }
    }

    /// Every resource's files and the manifest, inside the caller's read transaction.
    private static func write(_ db: some SQLExecutor, into folder: String, directory: String, now: String, today: CalendarDate) throws -> Summary {
        let seq = try ChangeSignal.newestSeq(db)
        var files: [File] = []
        for resource in TransferCatalogue.all {
            let export = resource.export(today)
            for format in [ExportFormat.ndjson, .csv] {
                let name = "\(resource.name).\(format.rawValue)"
                let file = try OutputFile(path: (folder as NSString).appendingPathComponent(name))
                let rows = try export.write(format, from: db) { try file.write($0) }
                let (bytes, sha256) = try file.finish()
                files.append(File(name: name, resource: resource.name, format: format.rawValue, rows: rows, bytes: bytes, sha256: sha256))
            }
        }
        let manifest = try OutputFile(path: (folder as NSString).appendingPathComponent(manifestName))
        try manifest.write(try self.manifest(db, files: files, seq: seq, now: now))
        _ = try manifest.finish()
        return Summary(directory: directory, files: files, lastChangeSeq: seq)
    }

    /// MANIFEST.json, one member a line and one file a line, for people as much as for `trade-tracker import DIR`.
    private static func manifest(_ db: some SQLExecutor, files: [File], seq: Int64, now: String) throws -> [UInt8] {
        var lines: [String] = []
        func member(_ name: String, _ write: (inout JSONWriter) -> Void) {
            var json = JSONWriter(capacity: 64)
            write(&json)
            lines.append("  " + String(decoding: JSONWriter.keyBytes(name), as: UTF8.self) + " " + String(decoding: json.bytes, as: UTF8.self))
        }
        func list(_ name: String, _ items: [(inout JSONWriter) -> Void]) {
            var rendered: [String] = []
            for item in items {
                var json = JSONWriter(capacity: 128)
                item(&json)
                rendered.append("    " + String(decoding: json.bytes, as: UTF8.self))
            }
            lines.append("  " + String(decoding: JSONWriter.keyBytes(name), as: UTF8.self)
                         + (rendered.isEmpty ? " []" : " [\n" + rendered.joined(separator: ",\n") + "\n  ]"))
        }
        let migrations = try db.query("SELECT version, name FROM schema_migrations ORDER BY version")
        member("format") { $0.string(formatName) }
        member("format_version") { $0.int(formatVersion) }
        member("created_at") { $0.string(now) }
        member("schema_version") { $0.int(migrations.last?.int("version") ?? 0) }
        member("migrations") { json in
            json.beginArray()
            for row in migrations { json.string(Migration.identifier(version: Int(row.int("version") ?? 0), name: row.text("name") ?? "")) }
            json.endArray()
        }
        member("last_change_seq") { $0.int(seq) }
        // The highest id each resource has handed out, deleted records' included: an import of the folder retires
        // them too, so the copy never hands out an id the original did.
        let counters = try TransferCatalogue.all.filter(\.hasID).map { ($0.name, try ResourceStore(spec: $0.spec).highestIDHandedOut(db)) }
        member("id_counters") { json in
            json.beginObject()
            for (name, counter) in counters { json.member(name, counter) }
            json.endObject()
        }
        list("negotiations", try db.query("SELECT id, slug, record_complete_through FROM negotiations ORDER BY id").map { row in
            { json in
                json.beginObject()
                json.member("id", row.int("id"))
                json.member("slug", row.text("slug"))
                json.member("record_complete_through", row.text("record_complete_through"))
                json.endObject()
            }
        })
        list("files", files.map { file in
            { json in
                json.beginObject()
                json.member("name", file.name)
                json.member("resource", file.resource)
                json.member("format", file.format)
                json.member("rows", file.rows)
                json.member("bytes", file.bytes)
                json.member("sha256", file.sha256)
                json.endObject()
            }
        })
        return Array(("{\n" + lines.joined(separator: ",\n") + "\n}\n").utf8)
    }
}

/// A new file written in blocks, hashed as it goes, flushed before it is closed.
final class OutputFile {
    private let descriptor: Int32
    private let path: String
    private var hasher = SHA256()
    private var bytes = 0

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StartupError("cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func write(_ block: [UInt8]) throws {
        hasher.update(block)
        bytes += block.count
        var offset = 0
        while offset < block.count {
            let written = block.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + offset, block.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw StartupError("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Flushes the file to disk; its size and SHA-256.
    func finish() throws -> (bytes: Int, sha256: String) {
        guard fsync(descriptor) == 0 else { throw StartupError("cannot flush \(path): \(String(cString: strerror(errno)))") }
        return (bytes, hasher.hexDigest())
    }
}
