import HTTPServer
import JSON
import SQLite

/// `GET /v1/changes`: pages of the change log, long polling with `wait`, and Server-Sent Events.
enum ChangesRoutes {
    static func register(context: APIContext, feed: ChangeFeed, on router: inout Router) {
        router.add("GET", "/v1/changes") { request in
            let parameters = try Parameters(request, tip: context.changes.seq, prunedThrough: context.changes.prunedThrough)
            if let format = try ExportFormat.requested(request, format: parameters.format), !wantsEventStream(request) {
                return try export(request, parameters, format: format, context: context)
            }
            if wantsEventStream(request) {
                let start = try parameters.streamStart(request)
                return HTTPResponse.stream(contentType: "text/event-stream; charset=utf-8") { stream in
                    feed.subscribe(stream, filter: parameters.filter, after: start)
                }
            }
            let (changes, lastSeq) = try context.read { db -> ([ChangeRecord], Int64) in
                let tip = try ChangeSignal.newestSeq(db)
                if parameters.since > tip { throw APIError.feedPositionAhead(parameters.since, tip: tip) }
                if parameters.since < context.changes.prunedThrough {
                    throw APIError.feedPositionPruned(parameters.since, oldestKept: context.changes.prunedThrough + 1)
                }
                let (changes, _) = try ChangeRecord.read(db, after: parameters.since, upTo: tip, filter: parameters.filter,
                                                            limit: parameters.limit)
                return (changes, ChangeRecord.lastSeq(changes, limit: parameters.limit, tip: tip, since: parameters.since))
            }
            if changes.isEmpty, let wait = parameters.wait, wait > .zero {
                let deferred = DeferredResponse()
                feed.park(since: parameters.since, filter: parameters.filter, limit: parameters.limit, wait: wait, deferred: deferred)
                return .deferred(deferred)
            }
            return ChangeResponses.page(changes, lastSeq: lastSeq)
        }
    }

    /// The log after `since` (all of it by default), streamed as CSV or NDJSON.
    private static func export(_ request: HTTPRequest, _ parameters: Parameters, format: ExportFormat, context: APIContext) throws -> HTTPResponse {
        if parameters.since < parameters.prunedThrough {
            throw APIError.feedPositionPruned(parameters.since, oldestKept: parameters.prunedThrough + 1)
        }
        if parameters.since > parameters.tip { throw APIError.feedPositionAhead(parameters.since, tip: parameters.tip) }
        var keyset = KeysetQuery(columns: "seq, at, resource, record_id, action, actor, request_id", from: "change_log",
                                 sort: [SortKey("seq", "seq")], after: nil, limit: ListExport.pageSize)
        // A condition, not the keyset's `after`: an export walks its keyset from the start.
        keyset.require("seq > ?", [.integer(parameters.since)])
        if !parameters.filter.resources.isEmpty {
            keyset.require("resource IN \(context.dialect.boundList(integers: false))", [SQLList.values(parameters.filter.resources, asIntegers: false)])
        }
        var query = ListQuery(scope: CursorScope("changes"))
        query.parameters = [["since", String(parameters.since)], ["resource", parameters.filter.resources.joined(separator: ",")]]
        query.download = parameters.download
        return try ListExport(name: "changes", columns: ["seq", "at", "resource", "id", "action", "actor", "request_id"], keyset: keyset,
                              writing: { row, json in
            ChangeRecord(seq: row.int(0) ?? 0, at: row.text(1) ?? "", resource: row.text(2) ?? "", id: row.int(3) ?? 0,
                         action: row.text(4) ?? "", actor: row.text(5), requestID: row.text(6)).write(into: &json)
        }).response(request, query: query, format: format, context: context)
    }

    static func wantsEventStream(_ request: HTTPRequest) -> Bool {
        request.headers.listValues("Accept").contains { $0.split(separator: ";").first?.trimmingHTTPWhitespace().lowercased() == "text/event-stream" }
    }

    /// The validated query of a feed request.
    struct Parameters {
        var since: Int64 = 0
        var sinceGiven = false
        let tip: Int64
        /// The newest seq retention pruned: a position behind it has missed changes.
        let prunedThrough: Int64
        var limit = 50
        var wait: Duration?
        var filter = ChangeQuery()
        /// An export (`format=csv|ndjson`) and whether to download it as a file.
        var format: String?
        var download = false

        /// Last-Event-ID, checked on every request (an empty one is absent); only an event stream starts from it.
        var lastEventID: Int64?

        init(_ request: HTTPRequest, tip: Int64, prunedThrough: Int64) throws(Problem) {
            self.tip = tip
            self.prunedThrough = prunedThrough
            if let last = request.headers["Last-Event-ID"]?.trimmingHTTPWhitespace(), !last.isEmpty {
                guard last.utf8.count <= 19, last.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int64(last) else {
                    throw APIError.invalidHeader("Last-Event-ID", "must be the seq of a change event (a whole number, 0 or more)")
                }
                lastEventID = n
            }
            var seen = Set<String>()
            for (name, value) in try request.validatedQueryItems() {
                guard seen.insert(name).inserted || name == "resource" else { throw APIError.invalidParameter(name, "is given more than once") }
                switch name {
                case "since":
                    sinceGiven = true
                    if value == "now" {
                        since = tip
                    } else {
                        guard let n = Int64(value), n >= 0 else { throw APIError.invalidParameter("since", "must be a change seq (0 or more) or now") }
                        since = n
                    }
                case "limit":
                    guard let n = Int(value), (1...ListQuery.maxLimit).contains(n) else {
                        throw APIError.invalidParameter("limit", "must be a whole number from 1 to \(ListQuery.maxLimit)")
                    }
                    limit = n
                case "wait":
                    guard let n = Int(value), (0...60).contains(n) else { throw APIError.invalidParameter("wait", "must be a whole number of seconds from 0 to 60") }
                    wait = .seconds(n)
                case "resource":
                    for resource in value.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
                        guard ResourceCatalogue.changeLogNames.contains(resource) else {
                            throw APIError.invalidParameter("resource", "'\(resource)' is not one of \(ResourceCatalogue.changeLogNames.joined(separator: ", "))")
                        }
                        if !filter.resources.contains(resource) { filter.resources.append(resource) }
                    }
                case "format":
                    format = value
                case "download":
                    guard ["0", "1", "true", "false"].contains(value) else {
                        throw APIError.invalidParameter("download", "must be 1 (or true) to get the export as a file")
                    }
                    download = value == "1" || value == "true"
                default:
                    throw APIError.invalidParameter(name, "is not a parameter of the change feed; it takes since, limit, wait, resource, format, download")
                }
            }
        }

        /// Where a stream starts: after Last-Event-ID, else after `since`, else at the tip (only new changes).
        /// A position ahead of the log (a database restored from an older backup) is a 410: the client reloads.
        func streamStart(_ request: HTTPRequest) throws(Problem) -> Int64 {
            var start = sinceGiven ? since : tip
            if let lastEventID { start = lastEventID }
            if start > tip { throw APIError.feedPositionAhead(start, tip: tip) }
            if start < prunedThrough { throw APIError.feedPositionPruned(start, oldestKept: prunedThrough + 1) }
            return start
        }
    }
}
