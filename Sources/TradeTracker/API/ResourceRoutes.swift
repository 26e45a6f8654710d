import HTTPServer
import JSON
import SQLite

/// The HTTP side of a resource's standard operations — list, read, create, merge-patch and delete: decode the
/// request, hand it to the write service (or read), shape the answer.
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

    /// The list, or one owner's sub-list when `owner` narrows it (`issues/3/updates`).
    func list(_ request: HTTPRequest, owner: (column: String, id: Int64, scope: CursorScope)? = nil) throws -> HTTPResponse {
        let query = try ListQuery.parse(request, spec.list, scope: owner?.scope ?? CursorScope(spec.name), signer: context.signer)
        let today = context.clock.today()
        if let format = try ExportFormat.requested(request, format: query.format) {
            var keyset = query.keyset(columns: "t.*", from: spec.table, definition: spec.list, dialect: context.dialect)
            if let owner { keyset.require("t.\(owner.column) = ?", [.integer(owner.id)]) }
            return try Self.export(spec, keyset: keyset, records: context.records, today: today)
                .response(request, query: query, format: format, context: context)
        }
        // The page is chosen by (id, version) alone; records come from the cache, and only those missing from it
        // are read whole and encoded, in the same snapshot.
        var keyset = query.keyset(columns: "t.id, t.version", from: spec.table, definition: spec.list, dialect: context.dialect)
        if let owner { keyset.require("t.\(owner.column) = ?", [.integer(owner.id)]) }
        return try context.cachedRead(request, resource: spec.name, today: today) { db in
            let (page, items) = try db.snapshot { () -> (KeysetPage, [[UInt8]]) in
                let page = try keyset.fetch(db)
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
            return ListPage.response(request: request, query: query, nextKeys: page.nextKeys, signer: context.signer) { json in
                for item in items { json.raw(item) }
            }
        }
    }

    func show(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try request.id(singular: spec.singular)
        try request.refuseQuery(of: "a single \(spec.singular)")
        let today = context.clock.today()
        return try context.cachedRead(request, resource: spec.name, today: today) { db in
            guard let row = try store.find(db, id: id) else { throw APIError.notFound(spec.singular, String(id)) }
            return recordResponse(row, today: today)
        }
    }

    /// A stored record as a 200 with its ETag.
    func recordResponse(_ row: Row, today: CalendarDate? = nil) -> HTTPResponse {
        let body = context.records.json(for: row, spec: spec, today: today ?? context.clock.today())
        var response = HTTPResponse.json(body)
        response.headers.add("ETag", EntityTag.strong(for: body))
        return response
    }

    // MARK: writes

    func create(_ request: HTTPRequest) throws -> HTTPResponse {
        let members = try RequestBody.object(request)
        let write = try context.writeContext(request)
        let input = InputDecoder.decode(members, spec: spec, mode: .create)
        let (writes, spec, collectionPath) = (context.writes, spec, collectionPath)
        return try context.respondAfterCommit(request, write, knownInvalid: !input.problems.isEmpty) { transaction in
            let row = try writes.insert(transaction, spec, input)
            return writes.outcome(transaction, row, spec: spec, status: 201, location: "\(collectionPath)/\(row.int("id") ?? 0)")
        }
    }

    func patch(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try request.id(singular: spec.singular)
        let ifMatch = try context.ifMatch(request)
        let members = try RequestBody.object(request, allowMergePatch: true)
        let input = InputDecoder.decode(members, spec: spec, mode: .patch)
        let (writes, spec) = (context.writes, spec)
        return try context.respondAfterCommit(request, try context.writeContext(request), knownInvalid: !input.problems.isEmpty) { transaction in
            let row = try writes.update(transaction, spec, id: id, input, ifMatch: ifMatch)
            return writes.outcome(transaction, row, spec: spec, status: 200)
        }
    }

    func delete(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try request.id(singular: spec.singular)
        let ifMatch = try context.ifMatch(request)
        let (writes, spec) = (context.writes, spec)
        return try context.respondAfterCommit(request, try context.writeContext(request)) { transaction in
            try writes.delete(transaction, spec, id: id, ifMatch: ifMatch)
            return WriteOutcome.noContent
        }
    }

    /// A resource list as an export: its columns are the record's members in order; CSV rows come straight from
    /// the stored row, NDJSON lines from the record cache (encoded afresh without one).
    static func export(_ spec: ResourceSpec, keyset: KeysetQuery, records: RecordCache?, today: CalendarDate) -> ListExport {
        let columns = ["id"] + spec.fields.map(\.name) + spec.computed.map(\.name) + ["created_at", "updated_at", "version"]
        return ListExport(name: spec.name, columns: columns, keyset: keyset,
                          json: { row in records?.json(for: row, spec: spec, today: today) ?? RecordEncoder.encode(row, spec: spec, today: today) },
                          csv: { row, out in Self.csvRow(row, spec: spec, today: today, into: &out) })
    }

    /// Every record of `spec`'s table in id order, as its list's default export (for a full export).
    static func exportByID(_ spec: ResourceSpec, today: CalendarDate) -> ListExport {
        let keyset = KeysetQuery(columns: "t.*", from: "\(spec.table) AS t", sort: [SortKey("id", "t.id")], limit: ListExport.pageSize)
        return export(spec, keyset: keyset, records: nil, today: today)
    }

    private static func csvRow(_ row: Row, spec: ResourceSpec, today: CalendarDate, into out: inout CSVWriter) {
        out.plainCell(row.int("id").map(String.init) ?? "")
        for field in spec.fields {
            switch row[field.column] ?? .null {
            case .null, .blob: out.emptyCell()
            case .integer(let n):
                if case .rate = field.kind { out.plainCell(RatePercent.jsonNumber(hundredths: n)) } else { out.plainCell(String(n)) }
            case .real(let d): out.plainCell(String(d))
            case .text(let text): out.cell(text)
            }
        }
        for computed in spec.computed {
            var json = JSONWriter(capacity: 16)
            computed.write(row, today, &json)
            out.plainCell(String(decoding: json.bytes, as: UTF8.self))
        }
        out.cell(row.text("created_at") ?? "")
        out.cell(row.text("updated_at") ?? "")
        out.plainCell(row.int("version").map(String.init) ?? "")
        out.endRow()
    }
}
