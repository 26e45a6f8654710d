import JSON
import HTTPServer
import SQLite

/// `GET /v1/status`: the one document a wall dashboard polls (API.md §3).
///
/// Its ETag is `"status-<last change seq>-<today>"`: the document changes only when something is written or the
/// date moves ("current" rates and the last/next round depend on the calendar), so a poll with a matching
/// `If-None-Match` is answered from the in-memory change counter, without touching the database.
enum StatusView {
    static func register(context: APIContext, on router: inout Router) {
        router.add("GET", "/v1/status") { request in
            _ = try ViewParameters(request, allowed: [])
            let now = context.clock.nowMilliseconds()
            let today = CalendarDate(daysSinceEpoch: Int(now / 86_400_000))
            if let field = request.headers["If-None-Match"] {
                let tag = entityTag(seq: context.changes.seq, today: today)
                if EntityTag.noneMatchHits(field, current: tag) {
                    var notModified = HTTPResponse(status: 304)
                    notModified.headers.add("ETag", tag)
                    notModified.headers.add("Cache-Control", "private, no-cache")
                    return notModified
                }
            }
            // One snapshot, so the seq in the ETag and the body describe the same state.
            let (seq, body) = try context.read { db in
                try db.snapshot { () throws -> (Int64, [UInt8]) in
                    let seq = try ChangeSignal.newestSeq(db)
                    return (seq, try document(db, seq: seq, generatedAt: Timestamp.format(epochMilliseconds: now), today: today))
                }
            }
            var response = HTTPResponse.json(body)
            response.headers.add("ETag", entityTag(seq: seq, today: today))
            response.headers.add("Cache-Control", "private, no-cache")
            return response
        }
    }

    static func entityTag(seq: Int64, today: CalendarDate) -> String { "\"status-\(seq)-\(today)\"" }

    static func document(_ db: some SQLExecutor, seq: Int64, generatedAt: String, today: CalendarDate) throws -> [UInt8] {
        let rates = try TariffRates.totals(db, on: today)
        let day = SQLValue.text(today.description)
        var json = JSONWriter(capacity: 4096)
        json.beginObject()
        json.member("generated_at", generatedAt)
        json.member("last_change_seq", seq)
        json.key("negotiations")
        json.beginArray()
        for negotiation in try db.query("SELECT id, slug, title, status, parties, record_complete_through FROM negotiations ORDER BY id") {
            let id = SQLValue.integer(negotiation.int("id") ?? 0)
            let checkedThrough = negotiation.text("record_complete_through")
            // "As of today" past the checked record is as scheduled, not as observed: say so on every such figure.
            let beyondRecord = checkedThrough.map { today.description > $0 } ?? false
            json.beginObject()
            json.member("id", negotiation.int("id"))
            for name in ["slug", "title", "status"] { json.member(name, negotiation.text(name)) }
            json.member("record_complete_through", checkedThrough)
            let partiesText = negotiation.text("parties") ?? "[]"
            json.key("parties")
            json.raw(Array(partiesText.utf8))
            // A cancelled round neither took place nor is coming, so it is neither the last nor the next one.
            json.key("last_round")
            writeRound(beyondRecord: beyondRecord, try db.queryOne("""
                SELECT id, title, starts_on, ends_on, status FROM rounds
                WHERE negotiation_id = ? AND starts_on <= ? AND status <> 'cancelled' ORDER BY starts_on DESC, id DESC LIMIT 1
                """, [id, day]), into: &json)
            json.key("next_round")
            writeRound(beyondRecord: beyondRecord, try db.queryOne("""
                SELECT id, title, starts_on, ends_on, status FROM rounds
                WHERE negotiation_id = ? AND starts_on > ? AND status <> 'cancelled' ORDER BY starts_on, id LIMIT 1
                """, [id, day]), into: &json)
            var counts: [String: Int64] = [:]
            for row in try db.query("SELECT status, count(*) AS n FROM issues WHERE negotiation_id = ? GROUP BY status", [id]) {
                counts[row.text("status") ?? ""] = row.int("n") ?? 0
            }
            json.key("issue_counts")
            json.beginObject()
            for status in Issues.statuses { json.member(status, counts[status] ?? 0) }
            json.endObject()
            json.key("tariff_rates")
            json.beginArray()
            let parties = (try? JSONParser.parse(Array(partiesText.utf8)))?.arrayValue?.compactMap(\.stringValue) ?? []
            for (i, a) in parties.enumerated() {
                for b in parties[(i + 1)...] {
                    for (by, on) in [(a, b), (b, a)] {
                        json.beginObject()
                        json.member("imposed_by", by)
                        json.member("imposed_on", on)
                        json.key("total_rate_percent")
                        json.number(RatePercent.jsonNumber(hundredths: rates[by + ">" + on] ?? 0))
                        json.member("beyond_record", beyondRecord)
                        json.endObject()
                    }
                }
            }
            json.endArray()
            json.key("export_controls_in_effect")
            json.beginArray()
            for party in parties {
                // The party's controls that reach another party of the negotiation (an empty applies_to reaches all).
                let others = parties.filter { $0 != party }
                var count: Int64 = 0
                for control in try db.query("""
                    SELECT status, effective_from, effective_until, suspensions, applies_to FROM export_controls
                    WHERE imposed_by = ? AND status = 'enacted' AND effective_from <= ?
                    """, [.text(party), day]) where MeasureSchedule(control).isInEffect(on: today.description) {
                    let targets = (try? JSONParser.parse(Array((control.text("applies_to") ?? "[]").utf8)))?.arrayValue?
                        .compactMap(\.stringValue) ?? []
                    if targets.isEmpty || targets.contains(where: others.contains) { count += 1 }
                }
                json.beginObject()
                json.member("imposed_by", party)
                json.member("count", count)
                json.member("beyond_record", beyondRecord)
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.bytes
    }

    private static func writeRound(beyondRecord: Bool, _ row: Row?, into json: inout JSONWriter) {
        guard let row else { return json.null() }
        json.beginObject()
        json.member("id", row.int("id"))
        for name in ["title", "starts_on", "ends_on", "status"] { json.member(name, row.text(name)) }
        json.member("beyond_record", beyondRecord)
        json.endObject()
    }
}
