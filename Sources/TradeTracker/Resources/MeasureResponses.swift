import HTTPServer
import JSON
import SQLite

/// `GET /v1/tariff-measures/{id}/responses` and `GET /v1/export-controls/{id}/responses`: the measures of either kind
/// whose `responds_to` names the measure (retaliation answering it), oldest first, each carrying its `type`.
enum MeasureResponses {
    static let kinds: [ResourceSpec] = [TariffMeasures.spec, ExportControls.spec]

    private static let definition = ListDefinition(
        fixedSort: [SortKey("effective_from", "r.effective_from"), SortKey("type", "r.type"), SortKey("id", "r.id")])

    static func registerRoutes(context: APIContext, on router: inout Router) {
        for target in kinds {
            router.add("GET", "/v1/\(target.name)/{id}/responses") { request in
                try responses(request, to: target, context: context)
            }
        }
    }

    private static func responses(_ request: HTTPRequest, to target: ResourceSpec, context: APIContext) throws -> HTTPResponse {
        let id = try request.id(singular: target.singular)
        let query = try ListQuery.parse(request, definition, scope: CursorScope("\(target.name)/\(id)/responses"), signer: context.signer)
        let names = kinds.map { spec in
            """
            SELECT '\(spec.name)' AS type, id, version, effective_from FROM \(spec.table) AS m
            WHERE EXISTS (SELECT 1 FROM \(Referrer.respondsToCondition(of: "m.responds_to", dialect: context.dialect)))
            """
        }
        var keyset = KeysetQuery(columns: "r.type, r.id, r.version", from: "(\(names.joined(separator: " UNION ALL "))) AS r",
                                 sort: query.sort, after: query.after, limit: query.limit)
        keyset.bindings = kinds.flatMap { _ in [SQLValue.text(target.name), .integer(id)] }
        let today = context.clock.today()
        if let format = try ExportFormat.requested(request, format: query.format) {
            let exists = try context.read { try ResourceStore(spec: target).exists($0, id: id) }
            guard exists else { throw APIError.notFound(target.singular, String(id)) }
            let records = context.records
            var columns = ["type"]
            for spec in kinds {
                for name in ResourceRoutes.export(spec, keyset: keyset, records: records, today: today).columns where !columns.contains(name) {
                    columns.append(name)
                }
            }
            return try ListExport(name: "\(target.name)-\(id)-responses", columns: columns, keyset: keyset, items: { db, rows in
                try Self.items(db, rows, records: records, today: today)
            }).response(request, query: query, format: format, context: context)
        }
        let (page, items) = try context.read { db -> (KeysetPage, [[UInt8]]) in
            try db.snapshot {
                guard try ResourceStore(spec: target).exists(db, id: id) else { throw APIError.notFound(target.singular, String(id)) }
                let page = try keyset.fetch(db)
                return (page, try Self.items(db, page.rows, records: context.records, today: today))
            }
        }
        return ListPage.response(request: request, query: query, nextKeys: page.nextKeys, signer: context.signer) { json in
            for item in items { json.raw(item) }
        }
    }

    /// Response rows (type, id, version) as list items: each measure's record with its `type` first.
    private static func items(_ db: some SQLExecutor, _ rows: [Row], records: RecordCache, today: CalendarDate) throws -> [[UInt8]] {
        var items: [[UInt8]] = []
        for row in rows {
            guard let type = row.text(0), let spec = kinds.first(where: { $0.name == type }), let recordID = row.int(1) else { continue }
            let record: [UInt8]
            if let cached = records.get(RecordCache.key(spec: spec, id: recordID, version: row.int(2) ?? 0, today: today)) {
                record = cached
            } else if let stored = try ResourceStore(spec: spec).find(db, id: recordID) {
                record = records.json(for: stored, spec: spec, today: today)
            } else {
                continue
            }
            items.append(Array("{\"type\":\"\(type)\",".utf8) + record.dropFirst())
        }
        return items
    }
}
