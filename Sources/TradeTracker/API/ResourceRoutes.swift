import HTTPServer
import SQLite

/// The five standard operations of a resource: list, read, create, merge-patch and delete.
struct ResourceRoutes: Sendable {
    let spec: ResourceSpec
    let context: APIContext
    var store: ResourceStore { ResourceStore(spec: spec) }

    var collectionPath: String { "/v1/\(spec.name)" }
    var itemPath: String { "/v1/\(spec.name)/{id}" }

    func register(on router: inout Router) {
        router.add("GET", collectionPath) { request in try list(request) }
        router.add("POST", collectionPath) { request in try create(request) }
        router.add("GET", itemPath) { request in try show(request) }
        router.add("PATCH", itemPath) { request in try patch(request) }
        router.add("DELETE", itemPath) { request in try delete(request) }
    }

    // MARK: reads

    /// `identity` names the list for its cursors when it is a sub-list of one owner (`issues/3/updates`).
    func list(_ request: HTTPRequest, extraCondition: (sql: String, values: [SQLValue])? = nil, identity: String? = nil) throws -> HTTPResponse {
        let query = try ListQuery.parse(request, spec: spec, signer: context.signer, identity: identity)
        let today = context.clock.today()
        // The page is chosen by (id, version) alone; records come from the cache, and only those missing from it
        // are read whole and encoded, in the same snapshot.
        let (page, items) = try context.read { db -> ((rows: [Row], nextKeys: [SQLValue]?), [[UInt8]]) in
            try db.transaction(.deferred) {
                let page = try store.list(db, query, extraCondition: extraCondition, columns: "t.id, t.version")
                var items: [[UInt8]?] = page.rows.map { row in
                    context.records.get(RecordCache.key(spec: spec, id: row.int(0) ?? 0, version: row.int(1) ?? 0, today: today))
                }
                let missing = zip(page.rows, items).compactMap { $1 == nil ? $0.int(0) : nil }
                if !missing.isEmpty {
                    var encoded: [Int64: [UInt8]] = [:]
                    for row in try store.find(db, ids: missing) {
                        encoded[row.int("id") ?? 0] = context.records.json(for: row, spec: spec, today: today)
                    }
                    for i in items.indices where items[i] == nil { items[i] = encoded[page.rows[i].int(0) ?? 0] }
                }
                return (page, items.compactMap { $0 })
            }
        }
        return ListPage.response(request: request, query: query, nextKeys: page.nextKeys, signer: context.signer) { json in
            for item in items { json.raw(item) }
        }
    }

    func show(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try request.id(singular: spec.singular)
        guard let row = try context.read({ try store.find($0, id: id) }) else { throw APIError.notFound(spec.singular, String(id)) }
        return recordResponse(row, status: 200, today: context.clock.today())
    }

    func recordResponse(_ row: Row, status: Int, today: CalendarDate) -> HTTPResponse {
        let body = context.records.json(for: row, spec: spec, today: today)
        var response = HTTPResponse.json(body, status: status)
        response.headers.add("ETag", EntityTag.strong(for: body))
        if status == 201, let id = row.int("id") { response.headers.add("Location", "\(collectionPath)/\(id)") }
        return response
    }

    // MARK: writes

    func create(_ request: HTTPRequest) throws -> HTTPResponse {
        let members = try RequestBody.object(request)
        return try context.idempotency.run(request, context: context) { recorder in
            let (values, problems) = InputDecoder.decode(members, spec: spec, mode: .create)
            return try insert(values, problems: problems, request: request, recorder: recorder)
        }
    }

    /// Validates decoded values and inserts them in one transaction.
    func insert(_ values: RecordValues, problems: [HTTPError.FieldError], request: HTTPRequest,
                recorder: IdempotencyStore.Recorder?) throws -> HTTPResponse {
        let write = context.writeContext(request)
        return try context.write { db in
            let row = try insertRecord(db, values, fieldProblems: problems, write: write)
            let response = recordResponse(row, status: 201, today: write.today)
            try recorder?.record(db, response)
            return response
        }
    }

    /// Cross-field rules, references, server-assigned columns, then the insert with its change-log row;
    /// inside the caller's transaction. The API and the demo loader both come through here.
    func insertRecord(_ db: SQLite.Connection, _ values: RecordValues, fieldProblems: [HTTPError.FieldError] = [],
                      write: WriteContext) throws -> Row {
        try RecordValidation.check(db, spec: spec, fieldProblems: fieldProblems, values: values)
        var values = values
        try spec.prepareInsert?(db, &values)
        return try store.insert(db, values, context: write)
    }

    func patch(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try request.id(singular: spec.singular)
        let ifMatch = try precondition(request)
        let members = try RequestBody.object(request, allowMergePatch: true)
        let (decoded, problems, objectPatches) = InputDecoder.decodeWithObjectPatches(members, spec: spec, mode: .patch)
        let write = context.writeContext(request)
        return try context.write { db in
            guard let row = try store.find(db, id: id) else { throw APIError.notFound(spec.singular, String(id)) }
            try check(ifMatch, against: row, today: write.today)
            let old = ResourceStore.values(of: row, spec: spec)
            var changes = decoded
            var fieldProblems = problems
            for (column, patch) in objectPatches {
                guard let field = spec.fields.first(where: { $0.column == column }) else { continue }
                switch FieldDecoder.decode(InputDecoder.merge(old[column], with: patch), as: field, pointer: "/" + field.name) {
                case .value(let merged): changes[column] = merged
                case .invalid(let found): fieldProblems += found
                }
            }
            let new = old.merging(changes) { $1 }
            try RecordValidation.check(db, spec: spec, fieldProblems: fieldProblems, values: new, referencesIn: Set(changes.keys))
            try spec.checkUpdate?(old, new)
            let updated = try store.update(db, id: id, old: old, new: new, context: write)
            return recordResponse(updated, status: 200, today: write.today)
        }
    }

    func delete(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try request.id(singular: spec.singular)
        let ifMatch = try precondition(request)
        let write = context.writeContext(request)
        try context.write { db in
            guard let row = try store.find(db, id: id) else { throw APIError.notFound(spec.singular, String(id)) }
            try check(ifMatch, against: row, today: write.today)
            let references = try store.references(db, id: id)
            if !references.isEmpty {
                let named = references.map { "\($0.1) \($0.0.replacingOccurrences(of: "-", with: " "))" }.joined(separator: ", ")
                throw APIError.conflict("referenced", "this \(spec.singular) is still referenced by \(named); delete or re-point those first",
                                        extensions: [("referenced_by", .object(references.map { ($0.0, .int($0.1)) }))])
            }
            try store.delete(db, id: id, old: ResourceStore.values(of: row, spec: spec), context: write)
        }
        return HTTPResponse(status: 204)
    }

    /// The request's If-Match, or 428 when the server requires one.
    func precondition(_ request: HTTPRequest) throws(HTTPError) -> String? {
        try context.ifMatch(request)
    }

    /// 412 unless `ifMatch` names the record's current representation.
    func check(_ ifMatch: String?, against row: Row, today: CalendarDate) throws(HTTPError) {
        guard ifMatch != nil else { return }
        try context.check(ifMatch, against: context.records.json(for: row, spec: spec, today: today))
    }
}

/// The `{data, next_cursor}` envelope and its `Link` header.
enum ListPage {
    static func response(request: HTTPRequest, query: ListQuery, nextKeys: [SQLValue]?, signer: CursorSigner,
                         writeItems: (inout JSONWriter) -> Void) -> HTTPResponse {
        var json = JSONWriter(capacity: 16 * 1024)
        json.beginObject()
        json.key("data")
        json.beginArray()
        writeItems(&json)
        json.endArray()
        let cursor = nextKeys.map { query.nextCursor(keys: $0, signer: signer) }
        json.member("next_cursor", cursor)
        json.endObject()
        var response = HTTPResponse.json(json.bytes)
        if let cursor {
            response.headers.add("Link", "<\(request.path)?cursor=\(cursor)&limit=\(query.limit)>; rel=\"next\"")
        }
        return response
    }
}
