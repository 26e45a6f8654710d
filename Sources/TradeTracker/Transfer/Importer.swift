import JSON
import SQLite

/// Writes NDJSON records through the write service, each through the same decoding and checks as the API's create
/// (`InputDecoder`, `RecordValidation`, the resource's own rules), with its change-log row. A line is
/// `{"resource": NAME, "record": {...}}`, or a plain record when the input names its resource. A record may carry
/// what an export writes — `id`, `created_at`, `updated_at`, `version`, read-only fields such as a round's
/// `sequence`, computed ones such as `in_effect_today` — and keeps them, so an export imported into an empty
/// database reads back byte for byte (ETags included). A record without `id` is created as a POST would create it.
///
/// Used by one thread at a time: the writer thread while a job of it runs, the caller in between.
final class Importer: @unchecked Sendable {
    /// What one `write` wrote.
    struct Chunk: Sendable {
        var counts = ImportCounts()
        /// The last line written.
        var last: ImportPlace?
        /// Whether the input is used up.
        var ended = false
    }

    let writes: WriteService
    private let lines: any DecodedLines
    private let pending = PendingReferences()
    /// Told the rows written so far (committed or not) and the bytes read, every few hundred rows.
    var progress: (@Sendable (_ rows: Int, _ bytes: Int) -> Void)?
    private var rowsWritten = 0
    /// Bytes of input read by the last line written.
    private(set) var bytesRead = 0

    init(writes: WriteService, lines: any DecodedLines) {
        self.writes = writes
        self.lines = lines
    }

    /// Why the input could not be read, when that stopped the import (the problem thrown is then a 500).
    var readFailure: String? { lines.readFailure }

    /// Writes records in `transaction` until `rowLimit` rows are written with no reference pending, or to the end
    /// of the input (nil: to the end). The first bad line throws its problem with `line` (and `file`, `resource`)
    /// members and its field pointers relative to the line.
    func write(_ transaction: WriteTransaction, rowLimit: Int?) throws(Problem) -> Chunk {
        transaction.pendingReferences = pending
        defer { transaction.pendingReferences = nil }
        var chunk = Chunk()
        var checkAt = rowLimit
        while let line = lines.next() {
            chunk.counts.add(try store(line, transaction))
            chunk.last = line.place
            bytesRead = line.bytesRead
            rowsWritten += 1
            if rowsWritten % 256 == 0 { progress?(rowsWritten, bytesRead) }
            if let limit = rowLimit, let at = checkAt, chunk.counts.total >= at {
                if try resolvePending(transaction) { return chunk }
                checkAt = at + limit
            }
        }
        guard try resolvePending(transaction) else {
            let missing = pending.expected[0]
            var problem = APIError.validation([.init(pointer: missing.problem.pointer,
                                                     message: missing.problem.message + ", neither stored nor later in the import")])
            Self.nest(&problem, under: missing.place.pointerPrefix)
            Self.locate(&problem, missing.place, resource: missing.resource)
            throw problem
        }
        chunk.ended = true
        return chunk
    }

    /// The whole input in `transaction`; with `dryRun` every line is checked and written, then undone.
    func writeAll(_ transaction: WriteTransaction, dryRun: Bool) throws(Problem) -> Chunk {
        do {
            if dryRun { try transaction.db.run("SAVEPOINT import_dry_run") }
            let explicitIDs = transaction.explicitIDs
            let chunk = try write(transaction, rowLimit: nil)
            if dryRun {
                try transaction.db.run("ROLLBACK TO SAVEPOINT import_dry_run")
                try transaction.db.run("RELEASE SAVEPOINT import_dry_run")
                transaction.explicitIDs = explicitIDs
            }
            return chunk
        } catch let problem as Problem {
            throw problem
        } catch {
            throw storageProblem(error)
        }
    }

    /// Stores one decoded line's record (checks that need the database included); its resource's name.
    private func store(_ line: DecodedLine, _ transaction: WriteTransaction) throws(Problem) -> String {
        let record: DecodedLine.Record
        switch line.content {
        case .failure(let problem): throw problem
        case .success(let decoded): record = decoded
        }
        pending.place = line.place
        pending.resource = record.resource.name
        do {
            var input = record.input
            if let parent = record.resource.parent {
                let pointer = "/" + parent.member
                if let id = record.parentID, try !ResourceStore(spec: parent.spec).exists(transaction.db, id: id) {
                    input.problems.append(.init(pointer: pointer, message: "refers to \(English.withArticle(parent.spec.singular)) that does not exist (id \(id))"))
                }
                // Without its parent the record's own checks cannot run: its problems so far are the answer.
                if input.problems.contains(where: { $0.pointer == pointer }) { throw APIError.validation(input.problems) }
            }
            try record.resource.write(writes, transaction, record.parentID, input)
            return record.resource.name
        } catch var problem as Problem {
            Self.nest(&problem, under: line.place.pointerPrefix)
            Self.locate(&problem, line.place, resource: record.resource.name)
            throw problem
        } catch {
            var problem = storageProblem(error)
            Self.locate(&problem, line.place, resource: record.resource.name)
            throw problem
        }
    }

    private func resolvePending(_ transaction: WriteTransaction) throws(Problem) -> Bool {
        do {
            return try pending.resolve(transaction.db)
        } catch {
            throw storageProblem(error)
        }
    }

    /// A database failure as the writer would answer it (and noted for readiness, as the writer does).
    private func storageProblem(_ error: any Error) -> Problem {
        guard let error = StorageError(sorting: error) else { return APIError.internalError() }
        writes.health.recordFailure(error)
        return StorageErrors.problem(for: error, logger: writes.logger)
    }

    /// Field pointers of a record inside a line move under the record's place (`/record/ends_on`).
    static func nest(_ problem: inout Problem, under prefix: String) {
        guard !prefix.isEmpty else { return }
        problem.errors = problem.errors.map { error in
            error.pointer.hasPrefix("/") ? .init(pointer: prefix + error.pointer, message: error.message) : error
        }
    }

    /// The problem names its line (and file and resource).
    static func locate(_ problem: inout Problem, _ place: ImportPlace, resource: String?) {
        if let file = place.file { problem.extensions.append(("file", .string(file))) }
        problem.extensions.append(("line", .int(place.line)))
        if let resource { problem.extensions.append(("resource", .string(resource))) }
    }
}
