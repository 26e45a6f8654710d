import HTTPServer
import SQLite

/// `GET /v1/{resource}/{id}/history`: a record's every change from the change log, oldest first, paged on `seq`.
/// Read from the change log alone, so a deleted record's history stays readable (its last entry is the deletion).
enum RecordHistory {
    private static let order = [ListQuery.SortKey(name: "seq", expression: "seq", descending: false)]

    static func register(context: APIContext, on router: inout Router) {
        for resource in APIRoutes.resources {
            router.add("GET", "/v1/\(resource.name)/{id}/history") { request in
                try history(request, resource: resource, context: context)
            }
        }
    }

    private static func history(_ request: HTTPRequest, resource: ResourceSpec, context: APIContext) throws -> HTTPResponse {
        let id = try request.id(singular: resource.singular)
        // The name binds a cursor to this record's history: another record's cursor is a 400.
        let spec = ResourceSpec(name: "\(resource.name)/\(id)/history", singular: "change", table: "change_log", fields: [])
        let query = try ListQuery.parse(request, spec: spec, signer: context.signer, fixedSort: order)
        var sql = "SELECT seq, at, action, actor, request_id, changes FROM change_log WHERE resource = ? AND record_id = ?"
        var bindings: [SQLValue] = [.text(resource.name), .integer(id)]
        if let after = query.after {
            let (condition, values) = ResourceStore.keysetCondition(query.sort, after: after)
            sql += " AND " + condition
            bindings += values
        }
        let rows = try context.read { try $0.query(sql + " ORDER BY seq LIMIT \(query.limit + 1)", bindings) }
        // Without a cursor, no row at all means the record never existed (ids are never reused).
        if rows.isEmpty && query.after == nil { throw APIError.notFound(resource.singular, String(id)) }
        let pageRows = rows.prefix(query.limit)
        let nextKeys: [SQLValue]? = rows.count > query.limit ? pageRows.last.map { [$0["seq"] ?? .null] } : nil
        return ListPage.response(request: request, query: query, nextKeys: nextKeys, signer: context.signer) { json in
            for row in pageRows {
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
    }
}
