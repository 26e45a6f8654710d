import Foundation
import HTTPServer
import JSON
import SQLite

/// `trade-tracker import FILE|DIR|-`: NDJSON records into the database (migrated first, created if need be)
/// through the write service, `batchSize` rows a transaction, so a server using the same database keeps writing
/// between them. A refused line stops the import: its transaction's rows are rolled back, the transactions before
/// it stay committed, and the message names the line, the field, what was committed and the `--from-line` to go
/// on with. `--dry-run` checks every line in one transaction that is rolled back. DIR is a folder
/// `trade-tracker export` wrote: its NDJSON files in MANIFEST.json's order, each checked against its SHA-256 first,
/// then its id counters, so the copy never hands out an id the original had.
public enum ImportCommand {
    public struct Options: Sendable, Equatable {
        /// A file, an export folder, or `-` for standard input.
        public var input: String
        public var resource: String?
        public var batchSize = 500
        public var dryRun = false
        public var fromLine = 1

        public init(input: String) { self.input = input }
    }

    /// Exit codes: 0 imported (or, for a dry run, every line valid), 1 a line refused, 2 unusable input or database.
    public static func run(_ configuration: AppConfiguration, _ options: Options) -> Int32 {
        let logger = Logger(minimumLevel: configuration.logLevel)
        let opened: ImportInputs
        let database: Database
        do {
            opened = try ImportInputs(options, maxLineBytes: configuration.server.limits.maxBodyBytes)
            database = try Database(location: configuration.database, migrationsDirectory: configuration.migrationsDirectory,
                                    readers: 1, synchronous: configuration.synchronous)
        } catch {
            return complain("\(error)", code: 2)
        }
        defer { opened.release() }
        // A checkpoint every 64 MiB of WAL instead of every 4 MiB: each one flushes the database file as well
        // (synchronous=FULL), and an import commits hundreds of times. The WAL is checkpointed at close.
        try? database.sqlitePool?.withWriter { try $0.execute("PRAGMA wal_autocheckpoint = 16384") }
        let writes = WriteService(database: database, records: RecordCache(capacity: 1), changes: ChangeSignal(seq: 0),
                                  idempotency: IdempotencyStore(), health: StorageHealth(path: configuration.databasePath, logger: logger),
                                  logger: logger, batchLimit: 1)
        defer {
            writes.writer.stop(timeout: .seconds(10))
            database.close()
        }
        let decoding = DecodingAhead(ImportDecoder(opened.inputs))
        defer { decoding.stop() }
        let importer = Importer(writes: writes, lines: decoding)
        let progress = ImportProgress(totalBytes: opened.totalBytes)
        importer.progress = { rows, bytes in progress.update(rows: rows, bytes: bytes) }
        var committed = ImportCounts()
        var committedThrough: ImportPlace?
        do {
            if options.dryRun {
                let chunk = try writes.perform(context()) { try importer.writeAll($0, dryRun: true) }
                progress.finish()
                print("dry run: \(English.count(chunk.counts.total, "row")) valid in \(seconds(progress.elapsed)) "
                      + "(\(ImportProgress.rate(chunk.counts.total, progress.elapsed)) rows/s): \(chunk.counts.description); nothing was written")
                return 0
            }
            while true {
                let chunk = try writes.perform(context()) { [batchSize = options.batchSize] in try importer.write($0, rowLimit: batchSize) }
                committed.add(chunk.counts)
                if let last = chunk.last { committedThrough = last }
                progress.update(rows: committed.total, bytes: importer.bytesRead)
                if chunk.ended { break }
            }
            if !opened.idCounters.isEmpty {
                try writes.perform(context()) { [counters = opened.idCounters] transaction in
                    for (resource, counter) in counters { try ResourceStore(spec: resource.spec).retireIDs(through: counter, transaction.db) }
                }
            }
        } catch {
            progress.finish()
            if let failure = importer.readFailure { return complain(failure, code: 2) }
            guard let problem = error as? Problem else { return complain("\(error)", code: 2) }
            return complain(failureMessage(problem, committed: committed, through: committedThrough, options: options, singleInput: opened.isSingle),
                            code: problem.status < 500 ? 1 : 2)
        }
        progress.finish()
        print("imported \(English.count(committed.total, "row")) in \(seconds(progress.elapsed)) "
              + "(\(ImportProgress.rate(committed.total, progress.elapsed)) rows/s): \(committed.description)")
        return 0
    }

    private static func context() -> WriteContext {
        WriteContext(actor: "import", requestID: nil, now: TimeSource.system.now(), today: TimeSource.system.today())
    }

    private static func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }

    private static func complain(_ message: String, code: Int32) -> Int32 {
        FileHandle.standardError.write(Data("trade-tracker: error: \(message)\n".utf8))
        return code
    }

    /// One line: where, what (each field with its message), what was kept, and how to go on.
    static func failureMessage(_ problem: Problem, committed: ImportCounts, through: ImportPlace?, options: Options, singleInput: Bool) -> String {
        let member = { (name: String) in problem.extensions.first { $0.0 == name }?.1 }
        var place = member("line")?.intValue.map { "line \($0)" } ?? "the input"
        if let file = member("file")?.stringValue { place = "\(file) \(place)" }
        if let resource = member("resource")?.stringValue { place += " (\(resource))" }
        let what = problem.errors.isEmpty ? (problem.detail ?? problem.title)
            : problem.errors.map { "\($0.pointer) \($0.message)" }.joined(separator: "; ")
        var message = "import stopped at \(place): \(what)"
        if options.dryRun {
            message += "; dry run, nothing was written"
        } else if committed.total == 0 {
            message += "; nothing was written"
        } else {
            message += "; \(English.count(committed.total, "row")) before it \(committed.total == 1 ? "was" : "were") committed (through \(through?.description ?? "?"): \(committed.description)),"
                + " none of its own transaction"
            if singleInput, let through { message += "; fix the line and go on with --from-line \(through.line + 1)" }
        }
        return message
    }
}
