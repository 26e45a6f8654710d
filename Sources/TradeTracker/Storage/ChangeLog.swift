import JSON
import SQLite

/// Appends to the one change log, always inside the transaction of the change it records.
enum ChangeLog {
    enum Action: String { case created, updated, deleted }

    /// `changes` maps field names to (before, after) JSON values.
    static func append(_ db: some SQLExecutor, resource: String, recordID: Int64, action: Action,
                       changes: [(String, before: JSONValue, after: JSONValue)], context: WriteContext) throws {
        try append(db, resource: resource, recordID: recordID, action: action, changesJSON: encode(changes), context: context)
    }

    /// `changesJSON` is the object of field changes, encoded (see `diff`). The seq is the engine's to assign:
    /// SQLite's AUTOINCREMENT under the single writer, PostgreSQL's change_log_counter in commit order (0001).
    static func append(_ db: some SQLExecutor, resource: String, recordID: Int64, action: Action,
                       changesJSON: [UInt8], context: WriteContext) throws {
        try db.run(db.dialect.engine == .sqlite ? sqliteInsert : postgresInsert,
                   values(resource: resource, recordID: recordID, action: action, changesJSON: changesJSON, context: context))
    }

    /// The change-log INSERT, written once; built once per engine.
    private static func insert(_ dialect: SQLDialect) -> String {
        """
        INSERT INTO change_log (at, resource, record_id, action, actor, request_id, changes)
        VALUES (?, ?, ?, ?, ?, ?, \(dialect.jsonParameter))
        """
    }

    private static let sqliteInsert = insert(.sqlite), postgresInsert = insert(.postgres)

    private static func values(resource: String, recordID: Int64, action: Action, changesJSON: [UInt8],
                               context: WriteContext) -> [SQLValue] {
        [.text(context.now), .text(resource), .integer(recordID), .text(action.rawValue),
         context.actor.map(SQLValue.text) ?? .null, context.requestID.map(SQLValue.text) ?? .null,
         .text(String(decoding: changesJSON, as: UTF8.self))]
    }

    /// `changes` as the object `append` stores: `{"field": {"before": …, "after": …}, …}`.
    private static func encode(_ changes: [(String, before: JSONValue, after: JSONValue)]) -> [UInt8] {
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
        return json.bytes
    }

    /// Field-by-field changes between two versions of a record (`nil` side = created or deleted), encoded as the
    /// object `append` stores: `{"field": {"before": …, "after": …}, …}`. Written straight from the column values,
    /// on the writer's thread, for every write.
    static func diff(spec: ResourceSpec, before: RecordValues?, after: RecordValues?) -> [UInt8] {
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        for field in spec.fields {
            let old = before?[field.column], new = after?[field.column]
            if before != nil && after != nil && old == new { continue }
            json.key(field.name)
            json.beginObject()
            json.key("before")
            write(old, field: field, into: &json)
            json.key("after")
            write(new, field: field, into: &json)
            json.endObject()
        }
        json.endObject()
        return json.bytes
    }

    private static func write(_ value: SQLValue?, field: Field, into json: inout JSONWriter) {
        guard let value else { return json.null() }
        // A JSON column's stored text and a real's digits go through the parser, as they always have: the log holds
        // them normalised (and a non-finite real as null). Text, integers and null come out the same either way.
        if field.isJSONColumn { return json.value(RecordEncoder.jsonValue(value, field: field)) }
        if case .real = value { return json.value(RecordEncoder.jsonValue(value, field: field)) }
        RecordEncoder.writeValue(value, field: field, into: &json)
    }
}
