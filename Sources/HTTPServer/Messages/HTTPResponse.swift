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
    /// When set, the body is produced by this, piece by piece, on a stream thread, and sent chunked (RFC 9112 §7.1)
    /// with flow control: the producer waits while the client has not taken what was sent (exports).
    public var chunkedProducer: (@Sendable (ChunkedBody) throws -> Void)?

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

    /// A body produced while it is sent: the head now (chunked), then what `produce` writes, at the client's pace.
    /// A producer that throws ends the connection without the last chunk, so the client knows the body is cut.
    public static func chunked(contentType: String, produce: @escaping @Sendable (ChunkedBody) throws -> Void) -> HTTPResponse {
        var response = HTTPResponse(status: 200)
        response.headers.add("Content-Type", contentType)
        response.chunkedProducer = produce
        return response
    }

    /// Whether the body is not in `body` (deferred or streamed): caching middleware leaves these alone.
    public var isDeferredOrStreamed: Bool { deferred != nil || streamStarter != nil || chunkedProducer != nil }

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

    /// The bytes on the wire: status line, headers (with Date, Content-Length, Connection) and body, in one buffer
    /// sized exactly up front and filled with plain copies (this runs for every response).
    func serialized(version: HTTPVersion, keepAlive: Bool, headOnly: Bool, date: [UInt8], streaming: Bool = false,
                    chunked: Bool = false) -> [UInt8] {
        // RFC 9110 §6.2: a server answers with its highest version, also to HTTP/1.0 clients.
        let statusLine = StatusLines.line(for: status)
        let withLength = !HTTPStatus.forbidsBody(status) && !streaming && !chunked
        let lengthDigits = withLength ? Self.decimalDigits(body.count) : 0
        let connection: StaticString? = !keepAlive ? "Connection: close\r\n" : version == .http10 ? "Connection: keep-alive\r\n" : nil
        let sendsBody = !headOnly && !HTTPStatus.forbidsBody(status)
        let transferEncoding: StaticString? = chunked ? "Transfer-Encoding: chunked\r\n" : nil
        var size = statusLine.count + date.count + 2 + (withLength ? 18 + lengthDigits : 0) + (connection?.utf8CodeUnitCount ?? 0)
            + (transferEncoding?.utf8CodeUnitCount ?? 0)
        for field in headers.fields { size += field.name.utf8.count + field.value.utf8.count + 4 }
        if sendsBody { size += body.count }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var at = 0
            func put(_ bytes: UnsafeRawBufferPointer) {
                guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
                UnsafeMutableRawPointer(buffer.baseAddress! + at).copyMemory(from: source, byteCount: bytes.count)
                at += bytes.count
            }
            func put(_ text: String) {
                if text.utf8.withContiguousStorageIfAvailable({ put(UnsafeRawBufferPointer($0)) }) == nil {
                    for byte in text.utf8 { put(byte) }
                }
            }
            func put(_ byte: UInt8) {
                buffer[at] = byte
                at += 1
            }
            statusLine.withUnsafeBytes { put($0) }
            date.withUnsafeBytes { put($0) }
            if withLength {
                ("Content-Length: " as StaticString).withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
                var n = body.count
                for i in stride(from: lengthDigits - 1, through: 0, by: -1) {
                    buffer[at + i] = UInt8(48 + n % 10)
                    n /= 10
                }
                at += lengthDigits
                put(13); put(10)
            }
            connection?.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
            transferEncoding?.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
            for field in headers.fields {
                put(field.name)
                put(UInt8(ascii: ":")); put(UInt8(ascii: " "))
                put(field.value)
                put(13); put(10)
            }
            put(13); put(10)
            if sendsBody { body.withUnsafeBytes { put($0) } }
            initialized = at
        }
    }

    private static func decimalDigits(_ value: Int) -> Int {
        var digits = 1, n = value
        while n >= 10 { n /= 10; digits += 1 }
        return digits
    }
}

/// `HTTP/1.1 <status> <reason>\r\n` for every status, made once.
private enum StatusLines {
    private static let common: [Int: [UInt8]] = {
        var lines: [Int: [UInt8]] = [:]
        for status in 100...599 where HTTPStatus.reason(status) != "Status \(status)" { lines[status] = make(status) }
        return lines
    }()

    static func line(for status: Int) -> [UInt8] { common[status] ?? make(status) }

    private static func make(_ status: Int) -> [UInt8] { Array("HTTP/1.1 \(status) \(HTTPStatus.reason(status))\r\n".utf8) }
}
