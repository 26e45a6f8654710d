/// HTTP protocol version of a request.
public enum HTTPVersion: Sendable, Equatable {
    case http10, http11

    public var text: String { self == .http10 ? "HTTP/1.0" : "HTTP/1.1" }
}

/// A parsed request, as handlers see it.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The raw request target, e.g. `/v1/rounds?limit=5`.
    public var target: String
    /// The percent-encoded path part of the target.
    public var path: String
    /// The raw query string (without `?`), or nil when there is none.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var trailers: HTTPHeaders
    public var body: [UInt8]
    /// The peer address as text (`127.0.0.1`), for logs and rate limits.
    public var remoteAddress: String
    /// Assigned by the server: echoed from `X-Request-ID` when valid, generated otherwise.
    public var requestID: String
    /// Values captured from the route template, e.g. `["id": "12"]`.
    public var pathParameters: [String: String] = [:]
    /// The route template that matched, e.g. `/v1/rounds/{id}`.
    public var routeTemplate: String?
    /// True when a handler exists for this method and path (false for 404, 405 and automatic OPTIONS).
    public var routeFound = false
    /// For an `OPTIONS` request the router answered itself: the methods the path allows (CORS preflights).
    public var allowedMethods: [String] = []
    /// Values that middleware attaches for later stages.
    public var attributes = RequestAttributes()

    public init(method: String, target: String, version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], remoteAddress: String = "", requestID: String = "") {
        self.method = method
        self.target = target
        // Byte search: Character iteration over the target showed up in request profiles.
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.path = String(target[..<q])
            self.query = String(target[target.utf8.index(after: q)...])
        } else {
            self.path = target
            self.query = nil
        }
        self.version = version
        self.headers = headers
        self.trailers = HTTPHeaders()
        self.body = body
        self.remoteAddress = remoteAddress
        self.requestID = requestID
    }

    /// Whether the connection may stay open after this request (RFC 9112 §9.3).
    public var wantsKeepAlive: Bool {
        let tokens = headers.listValues("Connection")
        if tokens.contains(where: { $0.equalsIgnoringASCIICase("close") }) { return false }
        if version == .http10 { return tokens.contains(where: { $0.equalsIgnoringASCIICase("keep-alive") }) }
        return true
    }

    /// Decoded query items in order; throws a 400 on bad percent-encoding.
    public func queryItems() throws(HTTPFailure) -> [(name: String, value: String)] {
        guard let query, !query.isEmpty else { return [] }
        var items: [(name: String, value: String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentDecoding.decode(pieces[0], plusIsSpace: true),
                  let value = PercentDecoding.decode(pieces.count > 1 ? pieces[1] : "", plusIsSpace: true) else {
                throw HTTPFailure(status: 400, reason: .malformedQuery, detail: "the query string has an invalid percent-encoding")
            }
            items.append((name: name, value: value))
        }
        return items
    }
}

/// A type-keyed bag of values middleware attaches to a request.
public struct RequestAttributes: Sendable {
    private var storage: [ObjectIdentifier: any Sendable] = [:]

    public init() {}

    public subscript<Key: RequestAttributeKey>(_ key: Key.Type) -> Key.Value? {
        get { storage[ObjectIdentifier(key)] as? Key.Value }
        set { storage[ObjectIdentifier(key)] = newValue }
    }
}

/// A key for `RequestAttributes`.
public protocol RequestAttributeKey {
    associatedtype Value: Sendable
}

/// Percent-decoding of URL components (RFC 3986 §2.1).
public enum PercentDecoding {
    /// The decoded text, or nil when an escape is malformed or the bytes are not UTF-8.
    public static func decode<S: StringProtocol>(_ text: S, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var it = text.utf8.makeIterator()
        while let b = it.next() {
            if b == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                bytes.append(hv << 4 | lv)
            } else if plusIsSpace && b == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}
