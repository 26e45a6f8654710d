import JSON
import HTTPServer
import SQLite

/// `GET /v1/negotiations/{id}/timeline`: every dated event of a negotiation, oldest first, paged like every list.
///
/// Ties on a date go by kind in the documented order (a round starts before it ends, even on the same day), then by
/// the id of the record the event comes from. Those three are the keyset, so pages stay exact under inserts.
/// Tariff events are those of enacted measures only: a proposed or withdrawn measure never took effect.
/// An `issue_update` refers to its issue (`{"type": "issues", "id": issue id}`), the record a client can fetch
/// (updates have no `/v1/issue-updates/{id}`); its keyset id is the update's own id, so two notes on one issue
/// on one day still page apart.
enum Timeline {
    /// The kinds, in tie-break order.
    static let kinds = ["round_started", "round_ended", "issue_update", "tariff_effective", "tariff_ended", "tariff_suspended",
                        "tariff_resumed", "export_control_effective", "export_control_ended", "export_control_suspended",
                        "export_control_resumed", "statement"]

    private static let definition = ListDefinition(
        filters: [ListFilter(name: "kind", kind: .equals(column: "kind"), values: .enumeration(kinds))],
        fixedSort: [SortKey("date", "e.date"), SortKey("kind", "e.kind_rank"), SortKey("id", "e.id")],
        dateRange: (start: "date", end: "date"))

    /// One row per event: date, kind_rank, id (tie-break), ref_type, ref_id, then what the title is made of.
    /// Suspension windows of enacted measures give `*_suspended` (at a window's start) and `*_resumed` (at its end,
    /// when the measure is still in force then); windows that follow one another (an extension) read as one, whose
    /// title names the end of the last of them. `rate` is typed in the first branch: PostgreSQL resolves a UNION's
    /// column types branch by branch, and two bare NULLs would make it text before the measures' integers.
    private static func events(_ d: SQLDialect) -> String {
            """
            SELECT r.starts_on AS date, 0 AS kind_rank, r.id AS id, 'rounds' AS ref_type, r.id AS ref_id,
                   r.title AS label, r.city AS body, NULL AS by_country, NULL AS on_country, CAST(NULL AS bigint) AS rate, NULL AS coverage,
                   NULL AS until
            FROM rounds r WHERE r.negotiation_id = ?
            UNION ALL
            SELECT r.ends_on, 1, r.id, 'rounds', r.id, r.title, r.city, NULL, NULL, NULL, NULL, NULL
            FROM rounds r WHERE r.negotiation_id = ?
            UNION ALL
            SELECT u.occurred_on, 2, u.id, 'issues', i.id, i.title, u.note, NULL, NULL, NULL, NULL, NULL
            FROM issue_updates u JOIN issues i ON i.id = u.issue_id WHERE i.negotiation_id = ?
            UNION ALL
            SELECT m.effective_from, 3, m.id, 'tariff-measures', m.id, m.legal_basis, NULL, m.imposed_by, m.imposed_on,
                   m.rate_hundredths, m.coverage, NULL
            FROM tariff_measures m WHERE m.negotiation_id = ? AND m.status = 'enacted'
            UNION ALL
            SELECT m.effective_until, 4, m.id, 'tariff-measures', m.id, m.legal_basis, NULL, m.imposed_by, m.imposed_on,
                   m.rate_hundredths, m.coverage, NULL
            FROM tariff_measures m WHERE m.negotiation_id = ? AND m.status = 'enacted' AND m.effective_until IS NOT NULL
            UNION ALL
            SELECT w.value ->> 'from', 5, m.id, 'tariff-measures', m.id, m.legal_basis, w.value ->> 'note', m.imposed_by, m.imposed_on,
                   m.rate_hundredths, m.coverage,
                   (WITH RECURSIVE c(u) AS (SELECT w.value ->> 'until' UNION SELECT n.value ->> 'until' FROM c, \(d.jsonArrayItems("m.suspensions", as: "n")) WHERE n.value ->> 'from' = c.u)
                    SELECT CASE WHEN EXISTS (SELECT 1 FROM c WHERE u IS NULL) THEN NULL ELSE max(u) END FROM c)
            FROM tariff_measures m, \(d.jsonArrayItems("m.suspensions", as: "w")) WHERE m.negotiation_id = ? AND m.status = 'enacted'
              AND NOT EXISTS (SELECT 1 FROM \(d.jsonArrayItems("m.suspensions", as: "p")) WHERE p.value ->> 'until' = w.value ->> 'from')
            UNION ALL
            SELECT w.value ->> 'until', 6, m.id, 'tariff-measures', m.id, m.legal_basis, w.value ->> 'note', m.imposed_by, m.imposed_on,
                   m.rate_hundredths, m.coverage, NULL
            FROM tariff_measures m, \(d.jsonArrayItems("m.suspensions", as: "w")) WHERE m.negotiation_id = ? AND m.status = 'enacted'
              AND w.value ->> 'until' IS NOT NULL AND (m.effective_until IS NULL OR w.value ->> 'until' < m.effective_until)
              AND NOT EXISTS (SELECT 1 FROM \(d.jsonArrayItems("m.suspensions", as: "n")) WHERE n.value ->> 'from' = w.value ->> 'until')
            UNION ALL
            SELECT c.effective_from, 7, c.id, 'export-controls', c.id, c.legal_basis,
                   (SELECT \(d.joinedText("i.value", separator: ", ")) FROM \(d.jsonArrayElements("c.items", as: "i"))), c.imposed_by, NULL, NULL, c.control, NULL
            FROM export_controls c WHERE c.negotiation_id = ? AND c.status = 'enacted'
            UNION ALL
            SELECT c.effective_until, 8, c.id, 'export-controls', c.id, c.legal_basis,
                   (SELECT \(d.joinedText("i.value", separator: ", ")) FROM \(d.jsonArrayElements("c.items", as: "i"))), c.imposed_by, NULL, NULL, c.control, NULL
            FROM export_controls c WHERE c.negotiation_id = ? AND c.status = 'enacted' AND c.effective_until IS NOT NULL
            UNION ALL
            SELECT w.value ->> 'from', 9, c.id, 'export-controls', c.id, c.legal_basis,
                   (SELECT \(d.joinedText("i.value", separator: ", ")) FROM \(d.jsonArrayElements("c.items", as: "i"))), c.imposed_by, NULL, NULL, c.control,
                   (WITH RECURSIVE k(u) AS (SELECT w.value ->> 'until' UNION SELECT n.value ->> 'until' FROM k, \(d.jsonArrayItems("c.suspensions", as: "n")) WHERE n.value ->> 'from' = k.u)
                    SELECT CASE WHEN EXISTS (SELECT 1 FROM k WHERE u IS NULL) THEN NULL ELSE max(u) END FROM k)
            FROM export_controls c, \(d.jsonArrayItems("c.suspensions", as: "w")) WHERE c.negotiation_id = ? AND c.status = 'enacted'
              AND NOT EXISTS (SELECT 1 FROM \(d.jsonArrayItems("c.suspensions", as: "p")) WHERE p.value ->> 'until' = w.value ->> 'from')
            UNION ALL
            SELECT w.value ->> 'until', 10, c.id, 'export-controls', c.id, c.legal_basis,
                   (SELECT \(d.joinedText("i.value", separator: ", ")) FROM \(d.jsonArrayElements("c.items", as: "i"))), c.imposed_by, NULL, NULL, c.control, NULL
            FROM export_controls c, \(d.jsonArrayItems("c.suspensions", as: "w")) WHERE c.negotiation_id = ? AND c.status = 'enacted'
              AND w.value ->> 'until' IS NOT NULL AND (c.effective_until IS NULL OR w.value ->> 'until' < c.effective_until)
              AND NOT EXISTS (SELECT 1 FROM \(d.jsonArrayItems("c.suspensions", as: "n")) WHERE n.value ->> 'from' = w.value ->> 'until')
            UNION ALL
            SELECT s.said_on, 11, s.id, 'statements', s.id, COALESCE(p.name, s.speaker), s.text, NULL, NULL, NULL, NULL, NULL
            FROM statements s LEFT JOIN participants p ON p.id = s.participant_id WHERE s.negotiation_id = ?
            """
    }

    private static let sqliteEvents = events(.sqlite), postgresEvents = events(.postgres)

    static func register(context: APIContext, on router: inout Router) {
        router.add("GET", "/v1/negotiations/{id}/timeline") { request in
            let negotiationID = try request.id(singular: "negotiation")
            // The scope binds a cursor to this negotiation's timeline: another one's cursor is a 400.
            let query = try ListQuery.parse(request, definition, scope: CursorScope("negotiations/\(negotiationID)/timeline"),
                                            signer: context.signer)
            let format = try ExportFormat.requested(request, format: query.format)
            let page = try context.read { db in
                guard try ResourceStore(spec: Negotiations.spec).exists(db, id: negotiationID) else {
                    throw APIError.notFound("negotiation", String(negotiationID))
                }
                return format == nil ? try keyset(negotiationID: negotiationID, query: query, dialect: db.dialect).fetch(db) : KeysetPage(rows: [], nextKeys: nil)
            }
            if let format {
                return try ListExport(name: "timeline", columns: ["date", "kind", "title", "ref"],
                                      keyset: keyset(negotiationID: negotiationID, query: query, dialect: context.dialect),
                                      writing: { write($0, into: &$1) }).response(request, query: query, format: format, context: context)
            }
            return ListPage.response(request: request, query: query, nextKeys: page.nextKeys, signer: context.signer) { json in
                for row in page.rows { write(row, into: &json) }
            }
        }
    }

    /// The events of one negotiation after the cursor's, filtered by kind and date.
    private static func keyset(negotiationID: Int64, query: ListQuery, dialect: SQLDialect) -> KeysetQuery {
        let events = dialect.engine == .sqlite ? sqliteEvents : postgresEvents
        var keyset = KeysetQuery(columns: "e.*", from: "(\(events)) AS e", sort: query.sort, after: query.after, limit: query.limit)
        keyset.bindings = Array(repeating: SQLValue.integer(negotiationID), count: events.components(separatedBy: "?").count - 1)
        for (_, values) in query.filters {
            let ranks = values.map { String(kinds.firstIndex(of: $0) ?? -1) }
            keyset.require("e.kind_rank IN \(dialect.boundList(integers: true))", [SQLList.values(ranks, asIntegers: true)])
        }
        if let from = query.from { keyset.require("e.date >= ?", [.text(from)]) }
        if let to = query.to { keyset.require("e.date <= ?", [.text(to)]) }
        return keyset
    }

    private static func write(_ row: Row, into json: inout JSONWriter) {
        let rank = Int(row.int("kind_rank") ?? 0)
        json.beginObject()
        json.member("date", row.text("date"))
        json.member("kind", kinds[rank])
        json.member("title", title(row, kind: kinds[rank]))
        json.key("ref")
        json.beginObject()
        json.member("type", row.text("ref_type"))
        json.member("id", row.int("ref_id"))
        json.endObject()
        json.endObject()
    }

    static func title(_ row: Row, kind: String) -> String {
        let label = row.text("label") ?? ""
        let place = row.text("body").map { " (\($0))" } ?? ""
        let basis = label.isEmpty ? "" : " (\(label))"
        let until = row.text("until").map { " until \($0)" } ?? ""
        switch kind {
        case "round_started": return "Start of \(label)\(place)"
        case "round_ended": return "End of \(label)\(place)"
        case "issue_update": return label + ": " + excerpt(row.text("body") ?? "")
        case "tariff_effective", "tariff_ended", "tariff_suspended", "tariff_resumed":
            let rate = RatePercent.jsonNumber(hundredths: row.int("rate") ?? 0)
            let target = (row.text("coverage") == "partial" ? "some goods from " : "") + (row.text("on_country") ?? "")
            let verb = ["tariff_effective": "takes effect", "tariff_ended": "ends", "tariff_suspended": "suspended\(until)",
                        "tariff_resumed": "applies again"][kind] ?? ""
            return "\(row.text("by_country") ?? "") tariff of \(rate) % on \(target)\(basis) \(verb)"
        case "export_control_effective", "export_control_ended", "export_control_suspended", "export_control_resumed":
            let control = (row.text("coverage") ?? "").replacingOccurrences(of: "_", with: " ")
            let verb = ["export_control_effective": "takes effect", "export_control_ended": "ends",
                        "export_control_suspended": "suspended\(until)", "export_control_resumed": "applies again"][kind] ?? ""
            return "\(row.text("by_country") ?? "") export control (\(control)) on \(excerpt(row.text("body") ?? "", limit: 80))\(basis) \(verb)"
        default: return label + ": " + excerpt(row.text("body") ?? "")
        }
    }

    /// At most `limit` characters, cut at a word boundary with an ellipsis, so a title stays one line on a dashboard.
    static func excerpt(_ text: String, limit: Int = 120) -> String {
        guard text.count > limit else { return text }
        let cut = text.prefix(limit - 1)
        var word = cut.lastIndex(where: { $0.isWhitespace }).map { cut[..<$0] } ?? cut
        while let last = word.last, last.isWhitespace || ",;:-–—".contains(last) { word = word.dropLast() }
        return word + "…"
    }
}
