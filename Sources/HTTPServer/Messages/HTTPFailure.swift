/// A failure the HTTP layer finds by itself — framing, limits, timeouts, routing, refusals — as a status and a
/// stable reason. It carries no body: the application's `ErrorRenderer` decides how errors look on the wire.
public struct HTTPFailure: Error, Sendable, CustomStringConvertible {
    /// A stable, machine-readable name for the kind of failure (`uri_too_long`).
    public struct Reason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let malformedRequest = Reason(rawValue: "malformed_request")
        public static let malformedChunk = Reason(rawValue: "malformed_chunk")
        public static let uriTooLong = Reason(rawValue: "uri_too_long")
        public static let headerFieldsTooLarge = Reason(rawValue: "header_fields_too_large")
        public static let payloadTooLarge = Reason(rawValue: "payload_too_large")
        public static let unsupportedTransferEncoding = Reason(rawValue: "unsupported_transfer_encoding")
        public static let httpVersionNotSupported = Reason(rawValue: "http_version_not_supported")
        public static let expectationFailed = Reason(rawValue: "expectation_failed")
        public static let requestTimeout = Reason(rawValue: "request_timeout")
        public static let malformedQuery = Reason(rawValue: "malformed_query")
        public static let malformedPath = Reason(rawValue: "malformed_path")
        public static let notFound = Reason(rawValue: "not_found")
        public static let methodNotAllowed = Reason(rawValue: "method_not_allowed")
        public static let serviceUnavailable = Reason(rawValue: "service_unavailable")
    }

    public let status: Int
    public let reason: Reason
    /// One sentence for a person: what was wrong.
    public let detail: String
    /// Headers the answer must carry (`Allow`, `Retry-After`).
    public var headers: HTTPHeaders
    /// Whether the connection must close after the answer (framing errors).
    public var closesConnection: Bool

    public init(status: Int, reason: Reason, detail: String, headers: HTTPHeaders = HTTPHeaders(), closesConnection: Bool = false) {
        self.status = status
        self.reason = reason
        self.detail = detail
        self.headers = headers
        self.closesConnection = closesConnection
    }

    public var description: String { "\(status) \(reason): \(detail)" }
}

extension HTTPFailure {
    static func malformed(_ detail: String) -> HTTPFailure {
        HTTPFailure(status: 400, reason: .malformedRequest, detail: detail, closesConnection: true)
    }

    static func malformedChunk(_ detail: String) -> HTTPFailure {
        HTTPFailure(status: 400, reason: .malformedChunk, detail: detail, closesConnection: true)
    }

    static func uriTooLong(_ limits: ParserLimits) -> HTTPFailure {
        HTTPFailure(status: 414, reason: .uriTooLong, detail: "the request line exceeds \(limits.maxRequestLineBytes) bytes",
                    closesConnection: true)
    }

    static func headerFieldsTooLarge(_ limits: ParserLimits) -> HTTPFailure {
        HTTPFailure(status: 431, reason: .headerFieldsTooLarge,
                    detail: "the header block exceeds \(limits.maxHeaderBytes) bytes or \(limits.maxHeaderCount) fields",
                    closesConnection: true)
    }

    static func payloadTooLarge(limit: Int) -> HTTPFailure {
        HTTPFailure(status: 413, reason: .payloadTooLarge, detail: "the request body exceeds \(limit) bytes",
                    closesConnection: true)
    }

    static let requestTimeout = HTTPFailure(status: 408, reason: .requestTimeout, detail: "the request head did not arrive in time",
                                            closesConnection: true)

    public static func notFound() -> HTTPFailure {
        HTTPFailure(status: 404, reason: .notFound, detail: "no resource at this path")
    }

    public static func methodNotAllowed(allowed: [String]) -> HTTPFailure {
        var headers = HTTPHeaders()
        headers.add("Allow", allowed.joined(separator: ", "))
        return HTTPFailure(status: 405, reason: .methodNotAllowed, detail: "this resource supports \(allowed.joined(separator: ", "))",
                           headers: headers)
    }

    public static func unavailable(_ detail: String, retryAfter: Int) -> HTTPFailure {
        var headers = HTTPHeaders()
        headers.add("Retry-After", String(retryAfter))
        return HTTPFailure(status: 503, reason: .serviceUnavailable, detail: detail, headers: headers)
    }
}
