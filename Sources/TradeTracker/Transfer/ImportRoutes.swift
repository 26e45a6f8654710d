import Foundation
import HTTPServer
import JSON

/// `POST /v1/import` (admin token): the NDJSON lines `trade-tracker import` reads, as the body
/// (`application/x-ndjson`), written through the write service in one transaction — all or nothing, as a batch:
/// a client that retries must find either every record or none. The first bad line is answered with its own
/// problem (422, 409, 400) carrying `line` (and `resource`) and field pointers relative to the line. `resource=NAME`
/// takes plain records of that resource; `dry_run=1` checks every line and keeps nothing. The body may be as large
/// as `--max-import-bytes` (one record as large as `--max-body-bytes`); `Idempotency-Key` works as on any POST.
struct ImportRoutes {
    static let path = "/v1/import"
    static let mediaTypes = ["application/x-ndjson", "application/ndjson"]

    let context: APIContext
    /// The longest line: one record may be as large as the API's body limit.
    let maxLineBytes: Int

    func register(on router: inout Router) {
        router.add("POST", Self.path) { [self] request in try run(request) }
    }

    func run(_ request: HTTPRequest) throws -> HTTPResponse {
        let parameters = try ViewParameters(request, allowed: ["resource", "dry_run"])
        let resource = try parameters["resource"].map { name throws(Problem) in
            guard let found = TransferCatalogue.named(name) else {
                throw APIError.invalidParameter("resource", "'\(name)' is not one of \(TransferCatalogue.names.joined(separator: ", "))")
            }
            return found
        }
        let dryRun = try parameters.flag("dry_run")
        try RequestBody.checkMediaType(request, accepted: Self.mediaTypes)
        guard !request.body.isEmpty else { throw APIError.malformedJSON("the request has no body; send NDJSON records, one a line") }
        let write = try context.writeContext(request)
        let (writes, body, maxLineBytes) = (context.writes, request.body, maxLineBytes)
        return try context.respondAfterCommit(request, write, rerunnable: false) { transaction in
            let started = ContinuousClock.now
            // Made here, so a write the writer runs again (its transaction lost to another's fault) reads from the start.
            let decoder = ImportDecoder([.init(file: nil, resource: resource, lines: NDJSONLines(bytes: body, maxLineBytes: maxLineBytes))])
            let importer = Importer(writes: writes, lines: decoder)
            let chunk = try importer.writeAll(transaction, dryRun: dryRun)
            var json = JSONWriter(capacity: 256)
            json.beginObject()
            json.member("dry_run", dryRun)
            json.member("rows", chunk.counts.total)
            json.key("resources")
            chunk.counts.write(into: &json)
            json.member("duration_ms", Int(MetricsRecorder.seconds(since: started) * 1000))
            json.endObject()
            return WriteOutcome(status: 200, headers: [("Content-Type", "application/json; charset=utf-8")], body: json.bytes)
        }
    }
}
