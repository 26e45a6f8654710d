/// HTTP protocol version of a request.
public enum HTTPVersion: Sendable, Equatable {
    case http10, http11

    public var text: String { self == .http10 ? "HTTP/1.0" : "HTTP/1.1" }
}

/// A parsed request, as handlers see it.
public struct HTTPRequest: Sendable {
    /// The fields live in one box, so passing a request down the middleware chain retains one reference instead
    /// of every string and array in it; a change copies the box only when it is shared (copy on write).
    /// `@unchecked Sendable`: a box is never mutated while shared (`mutate` copies it first).
    final class Storage: @unchecked Sendable {
        var method: String
        var target: String
        var path: String
        var query: String?
        var version: HTTPVersion
        var headers: HTTPHeaders
        var trailers: HTTPHeaders
        var body: [UInt8]
        var remoteAddress: String
        var requestID: String
        var pathParameters: PathParameters
        var routeTemplate: String?
        var routeFound: Bool
        var allowedMethods: [String]
        var attributes: RequestAttributes
        /// The handler the router chose, run at the end of the middleware chain.
        var handler: Handler?

        init(method: String, target: String, path: String, query: String?, version: HTTPVersion, headers: HTTPHeaders,
             body: [UInt8], remoteAddress: String, requestID: String) {
            self.method = method
            self.target = target
            self.path = path
            self.query = query
            self.version = version
            self.headers = headers
            self.trailers = HTTPHeaders()
            self.body = body
            self.remoteAddress = remoteAddress
            self.requestID = requestID
            self.pathParameters = PathParameters()
            self.routeTemplate = nil
            self.routeFound = false
            self.allowedMethods = []
            self.attributes = RequestAttributes()
        }

        func copy() -> Storage {
            let copy = Storage(method: method, target: target, path: path, query: query, version: version, headers: headers,
                               body: body, remoteAddress: remoteAddress, requestID: requestID)
            copy.trailers = trailers
            copy.pathParameters = pathParameters
            copy.routeTemplate = routeTemplate
            copy.routeFound = routeFound
            copy.allowedMethods = allowedMethods
            copy.attributes = attributes
            copy.handler = handler
            return copy
        }
    }

    private var storage: Storage

    private mutating func mutate() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    public var method: String {
        get { storage.method }
        set { mutate().method = newValue }
    }
    /// The raw request target, e.g. `/v1/rounds?limit=5`.
    public var target: String {
        get { storage.target }
        set { mutate().target = newValue }
    }
    /// The percent-encoded path part of the target.
    public var path: String {
        get { storage.path }
        set { mutate().path = newValue }
    }
    /// The raw query string (without `?`), or nil when there is none.
    public var query: String? {
        get { storage.query }
        set { mutate().query = newValue }
    }
    public var version: HTTPVersion {
        get { storage.version }
        set { mutate().version = newValue }
    }
    public var headers: HTTPHeaders {
        get { storage.headers }
        set { mutate().headers = newValue }
    }
    public var trailers: HTTPHeaders {
        get { storage.trailers }
        set { mutate().trailers = newValue }
    }
    public var body: [UInt8] {
        get { storage.body }
        set { mutate().body = newValue }
    }
    /// The peer address as text (`127.0.0.1`), for logs and rate limits.
    public var remoteAddress: String {
        get { storage.remoteAddress }
        set { mutate().remoteAddress = newValue }
    }
    /// Assigned by the server: echoed from `X-Request-ID` when valid, generated otherwise.
    public var requestID: String {
        get { storage.requestID }
        set { mutate().requestID = newValue }
    }
    /// Values captured from the route template, e.g. `["id": "12"]`.
    public var pathParameters: PathParameters {
        get { storage.pathParameters }
        set { mutate().pathParameters = newValue }
    }
    /// The route template that matched, e.g. `/v1/rounds/{id}`.
    public var routeTemplate: String? {
        get { storage.routeTemplate }
        set { mutate().routeTemplate = newValue }
    }
    /// True when a handler exists for this method and path (false for 404, 405 and automatic OPTIONS).
    public var routeFound: Bool {
        get { storage.routeFound }
        set { mutate().routeFound = newValue }
    }
    /// For an `OPTIONS` request the router answered itself: the methods the path allows (CORS preflights).
    public var allowedMethods: [String] {
        get { storage.allowedMethods }
        set { mutate().allowedMethods = newValue }
    }
    /// Values that middleware attaches for later stages.
    public var attributes: RequestAttributes {
        get { storage.attributes }
        set { mutate().attributes = newValue }
    }

    var handler: Handler? {
        get { storage.handler }
        set { mutate().handler = newValue }
    }

    public init(method: String, target: String, version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], remoteAddress: String = "", requestID: String = "") {
        let path: String, query: String?
        // Byte search: Character iteration over the target showed up in request profiles.
        if let q = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
            path = String(target[..<q])
            query = String(target[target.utf8.index(after: q)...])
        } else {
            path = target
            query = nil
        }
        storage = Storage(method: method, target: target, path: path, query: query, version: version, headers: headers, body: body,
                          remoteAddress: remoteAddress, requestID: requestID)
    }

    /// Whether the connection may stay open after this request (RFC 9112 §9.3).
    public var wantsKeepAlive: Bool {
        var close = false, keepAlive = false
        for field in headers.fields where field.name.utf8.count == 10 && field.name.equalsIgnoringASCIICase("Connection") {
            for part in field.value.utf8.split(separator: UInt8(ascii: ",")) {
                let token = Substring(part).trimmingHTTPWhitespace()
                if token.equalsIgnoringASCIICase("close") { close = true }
                if token.equalsIgnoringASCIICase("keep-alive") { keepAlive = true }
            }
        }
        if close { return false }
        return version == .http11 || keepAlive
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
        // Most paths and query values hold no escape: they are their own decoding (a Swift string is valid UTF-8).
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) {
            return String(text)
        }
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

    /// A path segment's decoding (`+` is itself in a path), or nil when an escape is malformed or the bytes are not
    /// UTF-8.
    static func decode(_ segment: UnsafeBufferPointer<UInt8>) -> String? {
        guard segment.contains(UInt8(ascii: "%")) else { return String(validating: segment, as: UTF8.self) }
        return decode(String(decoding: segment, as: UTF8.self), plusIsSpace: false)
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
