/// The one error type that travels to the edge, where `problemResponse` turns it into RFC 9457 problem+json.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// One invalid field of a request body or query.
    public struct FieldError: Sendable, Equatable {
        public let pointer: String
        public let message: String
        public init(pointer: String, message: String) { self.pointer = pointer; self.message = message }
    }

    public var status: Int
    public var code: String
    public var title: String
    public var detail: String?
    public var type: String
    public var errors: [FieldError]
    public var headers: HTTPHeaders
    /// Extra problem members (e.g. `allowed_transitions`).
    public var extensions: [(String, JSONValue)]
    /// Whether the connection must close after the answer (framing errors).
    public var closesConnection: Bool

    public init(status: Int, code: String, title: String, detail: String? = nil, type: String? = nil,
                errors: [FieldError] = [], headers: HTTPHeaders = HTTPHeaders(),
                extensions: [(String, JSONValue)] = [], closesConnection: Bool = false) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.type = type ?? "/problems/" + code.replacingUnderscores()
        self.errors = errors
        self.headers = headers
        self.extensions = extensions
        self.closesConnection = closesConnection
    }

    public var description: String { "\(status) \(code): \(detail ?? title)" }

    /// The answer to a request that never reached the router (framing errors, timeouts, refusals): a fresh
    /// request id in the body and the `X-Request-ID` header.
    public func standaloneResponse() -> HTTPResponse {
        let requestID = RequestID.generate()
        var response = problemResponse(instance: "", requestID: requestID)
        response.headers.set("X-Request-ID", requestID)
        return response
    }

    /// The problem+json response for this error.
    public func problemResponse(instance: String, requestID: String) -> HTTPResponse {
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.member("type", type)
        json.member("code", code)
        json.member("title", title)
        json.member("status", status)
        if let detail { json.member("detail", detail) }
        json.member("instance", instance)
        json.member("request_id", requestID)
        if !errors.isEmpty {
            json.key("errors")
            json.beginArray()
            for error in errors {
                json.beginObject()
                json.member("pointer", error.pointer)
                json.member("message", error.message)
                json.endObject()
            }
            json.endArray()
        }
        for (name, value) in extensions { json.member(name, json: value) }
        json.endObject()
        var response = HTTPResponse(status: status, headers: headers, body: json.bytes)
        response.headers.set("Content-Type", "application/problem+json")
        response.closesConnection = closesConnection
        return response
    }
}

extension String {
    func replacingUnderscores() -> String {
        String(map { $0 == "_" ? "-" : $0 })
    }
}

extension HTTPError {
    public static func badRequest(_ detail: String, code: String = "bad_request", close: Bool = false) -> HTTPError {
        HTTPError(status: 400, code: code, title: "Bad request", detail: detail, closesConnection: close)
    }

    public static func notFound(_ detail: String = "no resource at this path") -> HTTPError {
        HTTPError(status: 404, code: "not_found", title: "Not found", detail: detail)
    }

    public static func methodNotAllowed(allowed: [String]) -> HTTPError {
        var headers = HTTPHeaders()
        headers.add("Allow", allowed.joined(separator: ", "))
        return HTTPError(status: 405, code: "method_not_allowed", title: "Method not allowed",
                         detail: "this resource supports \(allowed.joined(separator: ", "))", headers: headers)
    }

    public static func internalError() -> HTTPError {
        HTTPError(status: 500, code: "internal_error", title: "Internal server error",
                  detail: "the server could not complete the request; quote the request_id when reporting it")
    }

    public static func unavailable(_ detail: String, retryAfter: Int? = nil) -> HTTPError {
        var headers = HTTPHeaders()
        if let retryAfter { headers.add("Retry-After", String(retryAfter)) }
        return HTTPError(status: 503, code: "service_unavailable", title: "Service unavailable", detail: detail, headers: headers)
    }
}
