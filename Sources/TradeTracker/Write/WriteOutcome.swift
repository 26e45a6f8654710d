import HTTPServer

/// What a write answers: status, the headers that belong to the result (`Location`, `ETag`, `Content-Type`) and
/// the body. Stored as is for Idempotency-Key replays; turned into an HTTP response only at the edge.
struct WriteOutcome: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    /// True when this is a stored first response replayed for the same Idempotency-Key.
    var replayed = false

    static let noContent = WriteOutcome(status: 204)

    /// A record's JSON with its strong ETag (and `Location` when `location` is given).
    static func record(_ body: [UInt8], status: Int, location: String? = nil) -> WriteOutcome {
        var headers = [("Content-Type", "application/json; charset=utf-8"), ("ETag", EntityTag.strong(for: body))]
        if let location { headers.append(("Location", location)) }
        return WriteOutcome(status: status, headers: headers, body: body)
    }

    var response: HTTPResponse {
        var response = HTTPResponse(status: status, body: body)
        for (name, value) in headers { response.headers.add(name, value) }
        if replayed { response.headers.add("Idempotent-Replayed", "true") }
        return response
    }
}
