import HTTPServer
import JSON
import SQLite

/// `GET /v1/{resource}/{id}/history`: a record's every change from the change log, oldest first, paged on `seq`.
/// Read from the change log alone, so a deleted record's history stays readable (its last entry is the deletion).
enum RecordHistory {
    private static let definition = ListDefinition(fixedSort: [SortKey("seq", "seq")])

    static func register(_ resource: ResourceSpec, context: APIContext, on router: inout Router) {
        router.add("GET", "/v1/\(resource.name)/{id}/history") { request in
            try history(request, resource: resource, context: context)
        }
    }

    private static func history(_ request: HTTPRequest, resource: ResourceSpec, context: APIContext) throws -> HTTPResponse {
        let id = try request.id(singular: resource.singular)
        // The scope binds a cursor to this record's history: another record's cursor is a 400.
        let query = try ListQuery.parse(request, definition, scope: CursorScope("\(resource.name)/\(id)/history"), signer: context.signer)
        var keyset = KeysetQuery(columns: "seq, at, action, actor, request_id, changes", from: "change_log",
                                 sort: query.sort, after: query.after, limit: query.limit)
        keyset.require("resource = ?", [.text(resource.name)])
        keyset.require("record_id = ?", [.integer(id)])
        let (page, exists) = try context.read { db in
            let page = try keyset.fetch(db)
            // Without a cursor, no row at all means the record never existed (ids are never reused) — unless
            // retention pruned its history and the record is still there.
            let exists = page.rows.isEmpty && query.after == nil ? try ResourceStore(spec: resource).exists(db, id: id) : true
            return (page, exists)
        }
        if !exists { throw APIError.notFound(resource.singular, String(id)) }
        if let format = try ExportFormat.requested(request, format: query.format) {
            return try ListExport(name: "\(resource.name)-\(id)-history", columns: ["seq", "at", "action", "actor", "request_id", "changes"],
                                  keyset: keyset, writing: { write($0, into: &$1) }).response(request, query: query, format: format, context: context)
        }
        return ListPage.response(request: request, query: query, nextKeys: page.nextKeys, signer: context.signer) { json in
            for row in page.rows { write(row, into: &json) }
        }
    }

    private static func write(_ row: Row, into json: inout JSONWriter) {
        json.beginObject()
        json.member("seq", row.int("seq"))
        json.member("at", row.text("at"))
        json.member("action", row.text("action"))
        json.member("actor", row.text("actor"))
        json.member("request_id", row.text("request_id"))
        json.key("changes")
        // Stored as a JSON object (the schema checks json_valid), written as is.
        json.raw(Array((row.text("changes") ?? "{}").utf8))
        json.endObject()
    }
}
