import HTTPServer
import JSON

/// The product's one error type (RFC 9457 problem details), thrown until the edge, where `ProblemRenderer`
/// writes it as `application/problem+json`. Every kind is made by a factory in `APIError` below: the initializer is
/// private to this file, so the list of problems the API can answer is in one place.
struct Problem: Error, Sendable, CustomStringConvertible {
    /// One invalid field of a request body or query.
    struct FieldError: Sendable, Equatable {
        let pointer: String
        let message: String
        init(pointer: String, message: String) { self.pointer = pointer; self.message = message }
    }

    let status: Int
    let code: String
    let title: String
    var detail: String?
    /// A relative URI naming the kind: `/problems/<code with dashes>` unless a kind shares another's type.
    let type: String
    var errors: [FieldError]
    var headers: HTTPHeaders
    /// Extra problem members (e.g. `allowed_transitions`).
    var extensions: [(String, JSONValue)]
    /// Whether the connection must close after the answer (framing errors).
    var closesConnection: Bool

    fileprivate init(status: Int, code: String, title: String, detail: String? = nil, type: String? = nil,
                     errors: [FieldError] = [], headers: HTTPHeaders = HTTPHeaders(),
                     extensions: [(String, JSONValue)] = [], closesConnection: Bool = false) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.type = type ?? "/problems/" + code.replacingOccurrences(of: "_", with: "-")
        self.errors = errors
        self.headers = headers
        self.extensions = extensions
        self.closesConnection = closesConnection
    }

    var description: String { "\(status) \(code): \(detail ?? title)" }
}

/// Every problem the API answers with.
enum APIError {
    // MARK: the HTTP layer's own failures

    /// The titles of the failures the HTTP server finds by itself (its reasons are the problem codes).
    private static let failureTitles: [HTTPFailure.Reason: String] = [
        .malformedRequest: "Bad request",
        .malformedChunk: "Bad request",
        .malformedQuery: "Malformed query string",
        .malformedPath: "Bad request",
        .uriTooLong: "URI too long",
        .headerFieldsTooLarge: "Request header fields too large",
        .payloadTooLarge: "Request body too large",
        .unsupportedTransferEncoding: "Transfer coding not implemented",
        .httpVersionNotSupported: "HTTP version not supported",
        .expectationFailed: "Expectation failed",
        .requestTimeout: "Request timeout",
        .notFound: "Not found",
        .methodNotAllowed: "Method not allowed",
        .serviceUnavailable: "Service unavailable",
    ]

    static func from(_ failure: HTTPFailure) -> Problem {
        Problem(status: failure.status, code: failure.reason.rawValue,
                title: failureTitles[failure.reason] ?? HTTPStatus.reason(failure.status), detail: failure.detail,
                headers: failure.headers, closesConnection: failure.closesConnection)
    }

    // MARK: requests

    static func invalidParameter(_ name: String, _ message: String) -> Problem {
        Problem(status: 400, code: "invalid_parameter", title: "Invalid query parameter",
                detail: "\(name): \(message)", errors: [.init(pointer: "?\(name)", message: message)])
    }

    static func invalidHeader(_ name: String, _ message: String) -> Problem {
        Problem(status: 400, code: "invalid_parameter", title: "Invalid header", detail: "\(name) \(message)")
    }

    static func malformedJSON(_ detail: String) -> Problem {
        Problem(status: 400, code: "malformed_json", title: "Malformed JSON body", detail: detail)
    }

    static func unsupportedMediaType(_ detail: String) -> Problem {
        Problem(status: 415, code: "unsupported_media_type", title: "Unsupported media type", detail: detail)
    }

    static func validation(_ errors: [Problem.FieldError]) -> Problem {
        Problem(status: 422, code: "validation_failed", title: "Request body is invalid",
                detail: errors.count == 1 ? "1 field is invalid" : "\(errors.count) fields are invalid",
                type: "/problems/validation", errors: errors)
    }

    /// A write that passed validation but broke a rule the schema holds (a bug in validation, logged by the caller).
    static func storageRule() -> Problem {
        Problem(status: 422, code: "validation_failed", title: "Request body is invalid",
                detail: "the record breaks a storage rule", type: "/problems/validation")
    }

    // MARK: records

    static func notFound(_ singular: String, _ id: String) -> Problem {
        Problem(status: 404, code: "not_found", title: "Not found", detail: "no \(singular) with id \(id)")
    }

    static func notFound(detail: String) -> Problem {
        Problem(status: 404, code: "not_found", title: "Not found", detail: detail)
    }

    static func conflict(_ code: String, _ detail: String, extensions: [(String, JSONValue)] = []) -> Problem {
        Problem(status: 409, code: code, title: "Conflict", detail: detail, extensions: extensions)
    }

    /// A unique value that another record holds already; `pointer` names the field (imports: `/id`, `/sequence`).
    static func duplicate(_ detail: String, pointer: String? = nil) -> Problem {
        Problem(status: 409, code: "duplicate", title: "Conflict", detail: detail,
                errors: pointer.map { [.init(pointer: $0, message: "is taken: \(detail)")] } ?? [])
    }

    static func preconditionFailed() -> Problem {
        Problem(status: 412, code: "precondition_failed", title: "Precondition failed",
                detail: "If-Match does not match the current ETag; fetch the record again and retry")
    }

    static func preconditionRequired() -> Problem {
        Problem(status: 428, code: "precondition_required", title: "Precondition required",
                detail: "this server requires If-Match with the record's ETag on PATCH and DELETE")
    }

    // MARK: idempotency

    static func invalidIdempotencyKey() -> Problem {
        Problem(status: 400, code: "invalid_idempotency_key", title: "Invalid Idempotency-Key",
                detail: "Idempotency-Key must be 1 to 255 visible ASCII characters")
    }

    static func idempotencyKeyReused() -> Problem {
        Problem(status: 422, code: "idempotency_key_reused", title: "Idempotency-Key reused",
                detail: "this Idempotency-Key was first used with a different request; use a new key")
    }

    static func idempotencyKeyInUse() -> Problem {
        conflict("idempotency_key_in_use", "a request with this Idempotency-Key is still being processed; retry later")
    }

    // MARK: the change feed

    static func feedPositionAhead(_ position: Int64, tip: Int64) -> Problem {
        Problem(status: 410, code: "gone", title: "Feed position unknown",
                detail: "\(position) is ahead of this server's change log (newest \(tip)); reload and start again with since=now")
    }

    static func feedPositionPruned(_ position: Int64, oldestKept: Int64) -> Problem {
        Problem(status: 410, code: "gone", title: "Feed position pruned",
                detail: "changes after \(position) are no longer kept (the log starts at \(oldestKept)); reload and start again with since=now")
    }

    // MARK: auth

    static func unauthorized(_ detail: String) -> Problem {
        var headers = HTTPHeaders()
        headers.add("WWW-Authenticate", #"Bearer realm="trade-tracker""#)
        return Problem(status: 401, code: "unauthorized", title: "Authentication required", detail: detail, headers: headers)
    }

    static func forbidden(_ detail: String) -> Problem {
        var headers = HTTPHeaders()
        headers.add("WWW-Authenticate", #"Bearer realm="trade-tracker", error="insufficient_scope""#)
        return Problem(status: 403, code: "forbidden", title: "Insufficient scope", detail: detail, headers: headers)
    }

    // MARK: the server

    static func unavailable(_ detail: String, retryAfter: Int = 1) -> Problem {
        from(.unavailable(detail, retryAfter: retryAfter))
    }

    static func rateLimited(retryAfter: Int, perMinute: Int) -> Problem {
        var headers = HTTPHeaders()
        headers.add("Retry-After", String(retryAfter))
        return Problem(status: 429, code: "rate_limited", title: "Too many requests",
                       detail: "this client may make \(perMinute) requests a minute; retry after \(retryAfter) s", headers: headers)
    }

    /// The writer's queue is full: the client should slow down and retry.
    static func writeQueueFull(_ limit: Int) -> Problem {
        var headers = HTTPHeaders()
        headers.add("Retry-After", "1")
        return Problem(status: 503, code: "write_queue_full", title: "Too many writes waiting",
                       detail: "\(limit) writes are already waiting for the database; retry shortly", headers: headers)
    }

    /// The database cannot take writes now (disk full, read-only, I/O error, gone); reads still work.
    static func storageUnavailable(_ detail: String, retryAfter: Int = 5) -> Problem {
        var headers = HTTPHeaders()
        headers.add("Retry-After", String(retryAfter))
        return Problem(status: 503, code: "storage_unavailable", title: "Storage unavailable", detail: detail, headers: headers)
    }

    static func internalError() -> Problem {
        Problem(status: 500, code: "internal_error", title: "Internal server error",
                detail: "the server could not complete the request; quote the request_id when reporting it")
    }
}
