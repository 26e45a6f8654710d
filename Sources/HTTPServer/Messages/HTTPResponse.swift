/// A response as handlers build it; the connection serialises it once.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Set when the connection must close after this response.
    public var closesConnection = false
    /// When set, the real response comes later through it (long polling); nothing else of this value is sent.
    public var deferred: DeferredResponse?
    /// When set, the head is sent without a length and this starts the body stream (Server-Sent Events).
    public var streamStarter: (@Sendable (EventStream) -> Void)?

    public init(status: Int = 200, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response that `deferred.complete(_:)` will supply later.
    public static func deferred(_ deferred: DeferredResponse) -> HTTPResponse {
        var response = HTTPResponse(status: 200)
        response.deferred = deferred
        return response
    }

    /// A streaming response: the head now, then whatever `start` sends through the stream until it finishes.
    public static func stream(contentType: String, start: @escaping @Sendable (EventStream) -> Void) -> HTTPResponse {
        var response = HTTPResponse(status: 200)
        response.headers.add("Content-Type", contentType)
        response.headers.add("Cache-Control", "no-store")
        response.streamStarter = start
        return response
    }

    /// Whether the body is not in `body` (deferred or streamed): caching middleware leaves these alone.
    public var isDeferredOrStreamed: Bool { deferred != nil || streamStarter != nil }

    /// A JSON response with `application/json; charset=utf-8`.
    public static func json(_ body: [UInt8], status: Int = 200) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json; charset=utf-8")
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", contentType)
        return HTTPResponse(status: status, headers: headers, body: Array(text.utf8))
    }

    /// The bytes on the wire: status line, headers (with Date, Content-Length, Connection) and body, in one buffer.
    func serialized(version: HTTPVersion, keepAlive: Bool, headOnly: Bool, date: [UInt8], streaming: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + headers.count * 40 + (headOnly ? 0 : body.count))
        // RFC 9110 §6.2: a server answers with its highest version, also to HTTP/1.0 clients.
        out.append(contentsOf: "HTTP/1.1".utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: String(status).utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: HTTPStatus.reason(status).utf8)
        out.append(contentsOf: crlf)
        out.append(contentsOf: date)
        if !HTTPStatus.forbidsBody(status) && !streaming {
            out.append(contentsOf: "Content-Length: ".utf8)
            out.append(contentsOf: String(body.count).utf8)
            out.append(contentsOf: crlf)
        }
        if !keepAlive {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if version == .http10 {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        for field in headers {
            out.append(contentsOf: field.name.utf8)
            out.append(UInt8(ascii: ":"))
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: crlf)
        }
        out.append(contentsOf: crlf)
        if !headOnly && !HTTPStatus.forbidsBody(status) {
            out.append(contentsOf: body)
        }
        return out
    }
}

private let crlf: [UInt8] = [13, 10]
