import JSON
import HTTPServer
import SQLite

/// Which changes a feed reader wants.
struct ChangeQuery: Sendable {
    /// Empty means every resource.
    var resources: [String] = []
}

/// One row of the change log as the feed shows it (without the field changes, which /history has).
struct ChangeRecord: Sendable {
    let seq: Int64
    let at: String
    let resource: String
    let id: Int64
    let action: String
    let actor: String?
    let requestID: String?

    /// Changes after `seq` (up to `tip` when given), oldest first, at most `limit`; `more` when others follow.
    static func read(_ db: some SQLExecutor, after seq: Int64, upTo tip: Int64?, filter: ChangeQuery,
                     limit: Int) throws -> (changes: [ChangeRecord], more: Bool) {
        var keyset = KeysetQuery(columns: "seq, at, resource, record_id, action, actor, request_id", from: "change_log",
                                 sort: [SortKey("seq", "seq")], after: [.integer(seq)], limit: limit)
        if let tip { keyset.require("seq <= ?", [.integer(tip)]) }
        if !filter.resources.isEmpty { keyset.require("resource IN \(db.dialect.boundList(integers: false))", [SQLList.values(filter.resources, asIntegers: false)]) }
        let page = try keyset.fetch(db)
        let changes = page.rows.map { row in
            ChangeRecord(seq: row.int(0) ?? 0, at: row.text(1) ?? "", resource: row.text(2) ?? "", id: row.int(3) ?? 0,
                         action: row.text(4) ?? "", actor: row.text(5), requestID: row.text(6))
        }
        return (changes, page.nextKeys != nil)
    }

    /// A page's `last_seq`: a full page ends at its last change (more may follow); a shorter one looked at
    /// everything up to the tip.
    static func lastSeq(_ changes: [ChangeRecord], limit: Int, tip: Int64, since: Int64) -> Int64 {
        changes.count == limit ? changes.last!.seq : max(tip, since)
    }

    func write(into json: inout JSONWriter) {
        json.beginObject()
        json.member("seq", seq)
        json.member("at", at)
        json.member("resource", resource)
        json.member("id", id)
        json.member("action", action)
        json.member("actor", actor)
        json.member("request_id", requestID)
        json.endObject()
    }
}

/// The feed's wire formats: a JSON page and Server-Sent Events.
enum ChangeResponses {
    static func page(_ changes: [ChangeRecord], lastSeq: Int64) -> HTTPResponse {
        var json = JSONWriter(capacity: 128 + changes.count * 160)
        json.beginObject()
        json.key("data")
        json.beginArray()
        for change in changes { change.write(into: &json) }
        json.endArray()
        json.member("last_seq", lastSeq)
        json.endObject()
        var response = HTTPResponse.json(json.bytes)
        // Set here because a completed long poll does not pass through the caching middleware again.
        response.headers.add("ETag", EntityTag.strong(for: json.bytes))
        response.headers.add("Cache-Control", "private, no-cache")
        return response
    }

    /// `id: <seq>`, `event: <action>`, `data: <change as JSON>`.
    static func event(_ change: ChangeRecord) -> [UInt8] {
        var json = JSONWriter(capacity: 160)
        change.write(into: &json)
        return Array("id: \(change.seq)\nevent: \(change.action)\ndata: ".utf8) + json.bytes + Array("\n\n".utf8)
    }
}
