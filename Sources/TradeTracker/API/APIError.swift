import HTTPServer

/// The product's problem kinds, all as `HTTPError` so exactly one function renders them.
enum APIError {
    static func validation(_ errors: [HTTPError.FieldError]) -> HTTPError {
        HTTPError(status: 422, code: "validation_failed", title: "Request body is invalid",
                  detail: errors.count == 1 ? "1 field is invalid" : "\(errors.count) fields are invalid",
                  type: "/problems/validation", errors: errors)
    }

    static func invalidParameter(_ name: String, _ message: String) -> HTTPError {
        HTTPError(status: 400, code: "invalid_parameter", title: "Invalid query parameter",
                  detail: "\(name): \(message)", errors: [.init(pointer: "?\(name)", message: message)])
    }

    static func malformedJSON(_ detail: String) -> HTTPError {
        HTTPError(status: 400, code: "malformed_json", title: "Malformed JSON body", detail: detail)
    }

    static func unsupportedMediaType(_ detail: String) -> HTTPError {
        HTTPError(status: 415, code: "unsupported_media_type", title: "Unsupported media type", detail: detail)
    }

    static func notFound(_ singular: String, _ id: String) -> HTTPError {
        HTTPError(status: 404, code: "not_found", title: "Not found", detail: "no \(singular) with id \(id)")
    }

    static func conflict(_ code: String, _ detail: String, extensions: [(String, JSONValue)] = []) -> HTTPError {
        HTTPError(status: 409, code: code, title: "Conflict", detail: detail, extensions: extensions)
    }

    static func preconditionFailed() -> HTTPError {
        HTTPError(status: 412, code: "precondition_failed", title: "Precondition failed",
                  detail: "If-Match does not match the current ETag; fetch the record again and retry")
    }

    static func preconditionRequired() -> HTTPError {
        HTTPError(status: 428, code: "precondition_required", title: "Precondition required",
                  detail: "this server requires If-Match with the record's ETag on PATCH and DELETE")
    }

    static func unauthorized(_ detail: String) -> HTTPError {
        var headers = HTTPHeaders()
        headers.add("WWW-Authenticate", #"Bearer realm="trade-tracker""#)
        return HTTPError(status: 401, code: "unauthorized", title: "Authentication required", detail: detail, headers: headers)
    }

    static func forbidden(_ detail: String) -> HTTPError {
        var headers = HTTPHeaders()
        headers.add("WWW-Authenticate", #"Bearer realm="trade-tracker", error="insufficient_scope""#)
        return HTTPError(status: 403, code: "forbidden", title: "Insufficient scope", detail: detail, headers: headers)
    }

    static func unavailable(_ detail: String) -> HTTPError {
        HTTPError.unavailable(detail, retryAfter: 1)
    }
}
