import JSON
import SQLite

/// Appends to the one change log, always inside the transaction of the change it records.
enum ChangeLog {
    enum Action: String { case created, updated, deleted }

    /// `changes` maps field names to (before, after) JSON values.
    static func append(_ db: SQLiteConnection, resource: String, recordID: Int64, action: Action,
                       changes: [(String, before: JSONValue, after: JSONValue)], context: WriteContext) throws {
        try SQLiteExecutor.bridging(db) { executor throws(StorageError) in try append(executor, resource: resource, recordID: recordID, action: action, changes: changes, context: context) }
    }

    /// `append` on either engine. The seq is the engine's to assign: SQLite's AUTOINCREMENT under the single
    /// writer, PostgreSQL's change_log_counter in commit order (0001).
    static func append(_ db: some SQLExecutor, resource: String, recordID: Int64, action: Action,
                       changes: [(String, before: JSONValue, after: JSONValue)], context: WriteContext) throws(StorageError) {
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        for change in changes {
            json.key(change.0)
            json.beginObject()
            json.member("before", json: change.before)
            json.member("after", json: change.after)
            json.endObject()
        }
        json.endObject()
        try db.run("""
            INSERT INTO change_log (at, resource, record_id, action, actor, request_id, changes)
            VALUES (?, ?, ?, ?, ?, ?, \(db.dialect.jsonParameter))
            """, [.text(context.now), .text(resource), .integer(recordID), .text(action.rawValue),
                  context.actor.map(SQLValue.text) ?? .null, context.requestID.map(SQLValue.text) ?? .null,
                  .text(String(decoding: json.bytes, as: UTF8.self))])
    }

    /// Field-by-field changes between two versions of a record (`nil` side = created or deleted).
    static func diff(spec: ResourceSpec, before: RecordValues?, after: RecordValues?) -> [(String, before: JSONValue, after: JSONValue)] {
        var changes: [(String, before: JSONValue, after: JSONValue)] = []
        for field in spec.fields {
            let old = before?[field.column], new = after?[field.column]
            if before != nil && after != nil && old == new { continue }
            changes.append((field.name,
                            before: old.map { RecordEncoder.jsonValue($0, field: field) } ?? .null,
                            after: new.map { RecordEncoder.jsonValue($0, field: field) } ?? .null))
        }
        return changes
    }
}
