/// How a request's body is delimited.
public enum BodyFraming: Sendable, Equatable {
    case none
    case contentLength(Int)
    case chunked
}

/// A request's start line and header fields, checked for framing and size.
public struct RequestHead: Sendable {
    public var method: String
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: BodyFraming
    /// The client sent `Expect: 100-continue` and waits for an interim answer before the body.
    public var expectsContinue: Bool
    /// The largest body this request may have (the limits' value for its path).
    public var maxBodyBytes: Int

    func makeRequest(body: [UInt8], trailers: HTTPHeaders) -> HTTPRequest {
        var request = HTTPRequest(method: method, target: target, version: version, headers: headers, body: body)
        request.trailers = trailers
        return request
    }
}

/// Byte classes from RFC 9110 §5.6.2 and §5.5.
enum HTTPGrammar {
    static func isTokenChar(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }

    /// field-vchar, SP and HTAB: everything a field value may hold.
    static func isFieldValueChar(_ b: UInt8) -> Bool {
        b == 0x09 || b == 0x20 || (b >= 0x21 && b != 0x7F)
    }

    static func isTargetChar(_ b: UInt8) -> Bool { b > 0x20 && b < 0x7F }
}
