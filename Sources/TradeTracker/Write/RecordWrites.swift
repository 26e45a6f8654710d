import HTTPServer
import JSON
import SQLite

/// A request body decoded against a resource's fields: the column values it sets, the problems found in it, the
/// object members of a merge patch still to be merged into the stored record, and (imports only) the
/// server-assigned columns to keep.
struct RecordInput: Sendable {
    var values: RecordValues = [:]
    var problems: [Problem.FieldError] = []
    var objectPatches: [String: [(String, JSONValue)]] = [:]
    var stamp = RecordStamp()
}

/// The record operations every writer shares: the checks on stored data, the SQL with its change-log row, and the
/// JSON answer, whose cache entry is made only after COMMIT.
extension WriteService {
    /// Cross-field rules, references, server-assigned columns, then the insert; the stored row.
    func insert(_ transaction: WriteTransaction, _ spec: ResourceSpec, _ input: RecordInput) throws -> Row {
        let id = try insertRecord(transaction, spec, input)
        guard let row = try ResourceStore(spec: spec).find(transaction.db, id: id) else { throw ResourceStoreError(message: "inserted row vanished") }
        return row
    }

    /// `insert` without reading the row back (imports): its id. An imported record's own id must be one the table
    /// never handed out (409 `duplicate` naming `/id`): ids are never reused (API.md §1), so a deleted record's id
    /// stays retired, and (id, version) keeps naming one representation — the record cache relies on it. Records
    /// with ids therefore come in ascending order, as an export writes them.
    func insertRecord(_ transaction: WriteTransaction, _ spec: ResourceSpec, _ input: RecordInput) throws -> Int64 {
        let store = ResourceStore(spec: spec)
        try RecordValidation.check(transaction, spec: spec, fieldProblems: input.problems, values: input.values, selfID: input.stamp.id)
        if let id = input.stamp.id {
            let handedOut = try store.highestIDHandedOut(transaction.db)
            if id <= handedOut {
                let what = English.withArticle(spec.singular)
                throw APIError.duplicate(try store.exists(transaction.db, id: id) ? "\(what) with id \(id) already exists"
                    : "id \(id) belonged to \(what) that was deleted, and ids are never reused (this table has handed out ids up to \(handedOut); records with ids come in ascending order)",
                    pointer: "/id")
            }
        }
        var values = input.values
        try spec.prepareInsert?(transaction.db, &values)
        let id = try store.answeringForeignKeys(values) { try store.insert(transaction.db, values, stamp: input.stamp, context: transaction.context) }
        if let explicit = input.stamp.id, !transaction.db.dialect.explicitIDsRaiseTheCounter {
            transaction.explicitIDs[spec.table] = max(explicit, transaction.explicitIDs[spec.table] ?? 0)
        }
        return id
    }

    /// The stored record merged with a patch, checked as a whole; 404, 412 and state-machine refusals included.
    func update(_ transaction: WriteTransaction, _ spec: ResourceSpec, id: Int64, _ input: RecordInput, ifMatch: String?) throws -> Row {
        let db = transaction.db
        let store = ResourceStore(spec: spec)
        guard let row = try store.find(db, id: id) else { throw APIError.notFound(spec.singular, String(id)) }
        try check(ifMatch, against: row, spec: spec, today: transaction.context.today)
        let old = ResourceStore.values(of: row, spec: spec)
        var changes = input.values
        var fieldProblems = input.problems
        for (column, patch) in input.objectPatches {
            guard let field = spec.fields.first(where: { $0.column == column }) else { continue }
            switch FieldDecoder.decode(InputDecoder.merge(old[column], with: patch), as: field, pointer: "/" + field.name) {
            case .value(let merged): changes[column] = merged
            case .invalid(let found): fieldProblems += found
            }
        }
        let new = old.merging(changes) { $1 }
        try RecordValidation.check(transaction, spec: spec, fieldProblems: fieldProblems, values: new, referencesIn: Set(changes.keys), selfID: id)
        try spec.checkUpdate?(old, new)
        return try store.answeringForeignKeys(new) { try store.update(db, id: id, old: old, new: new, context: transaction.context) }
    }

    /// Deletes a record nothing references any more (409 naming the referrers otherwise).
    func delete(_ transaction: WriteTransaction, _ spec: ResourceSpec, id: Int64, ifMatch: String?,
                belongsTo owner: ((Row) -> Bool)? = nil, notFound: Problem? = nil) throws {
        let db = transaction.db
        let store = ResourceStore(spec: spec)
        guard let row = try store.find(db, id: id), owner?(row) ?? true else {
            throw notFound ?? APIError.notFound(spec.singular, String(id))
        }
        try check(ifMatch, against: row, spec: spec, today: transaction.context.today)
        let references = try store.references(db, id: id)
        if !references.isEmpty {
            let named = references.map { "\($0.1) \($0.0.replacingOccurrences(of: "-", with: " "))" }.joined(separator: ", ")
            throw APIError.conflict("referenced", "this \(spec.singular) is still referenced by \(named); delete or re-point those first",
                                    extensions: [("referenced_by", .object(references.map { ($0.0, .int($0.1)) }))])
        }
        try store.answeringForeignKeys(nil) { try store.delete(db, id: id, old: ResourceStore.values(of: row, spec: spec), context: transaction.context) }
    }

    /// 412 unless `ifMatch` names the record's current representation.
    func check(_ ifMatch: String?, against row: Row, spec: ResourceSpec, today: CalendarDate) throws(Problem) {
        guard let ifMatch else { return }
        try Preconditions.check(ifMatch, against: records.encoded(row, spec: spec, today: today))
    }

    /// The record's JSON as the answer to a write; remembered in the record cache once the commit has succeeded.
    func outcome(_ transaction: WriteTransaction, _ row: Row, spec: ResourceSpec, status: Int, location: String? = nil) -> WriteOutcome {
        let today = transaction.context.today
        let body = records.encoded(row, spec: spec, today: today)
        if let id = row.int("id"), let version = row.int("version") {
            let key = RecordCache.key(spec: spec, id: id, version: version, today: today)
            transaction.onCommit { [records] in records.put(key, body) }
        }
        return .record(body, status: status, location: location)
    }
}

/// If-Match and its 412 (RFC 9110 §13.1.1, strong comparison).
enum Preconditions {
    static func check(_ ifMatch: String?, against body: [UInt8]) throws(Problem) {
        guard let ifMatch else { return }
        guard EntityTag.matchHits(ifMatch, current: EntityTag.strong(for: body)) else { throw APIError.preconditionFailed() }
    }
}
