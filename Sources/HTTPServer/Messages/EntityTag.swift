/// Strong entity tags derived from a representation's bytes, and the RFC 9110 §13.1 comparisons.
public enum EntityTag {
    /// `"<16 hex digits>"`: changes whenever the bytes do. A fast 64-bit multiply-mix hash (no key needed: an
    /// ETag only has to change with the content; SipHash cost showed in list profiles).
    public static func strong(for body: [UInt8]) -> String {
        let hex = String(contentHash(body), radix: 16)
        return "\"" + String(repeating: "0", count: 16 - hex.count) + hex + "\""
    }

    static func contentHash(_ body: [UInt8]) -> UInt64 {
        body.withUnsafeBytes { raw -> UInt64 in
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(raw.count)
            let words = raw.count / 8
            for i in 0..<words {
                let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
                h ^= h >> 29
            }
            var tail: UInt64 = 0
            for i in 0..<(raw.count & 7) { tail |= UInt64(raw[words * 8 + i]) << (8 * UInt64(i)) }
            h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
            h ^= h >> 32
            h = h &* 0xFF51_AFD7_ED55_8CCD
            return h ^ (h >> 29)
        }
    }

    /// The tags of an `If-None-Match` / `If-Match` field value; `["*"]` for a wildcard.
    static func parseList(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingHTTPWhitespace() }.filter { !$0.isEmpty }
    }

    private static func opaque(_ tag: String) -> String {
        tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
    }

    /// If-None-Match uses the weak comparison: `W/"x"` matches `"x"`.
    public static func noneMatchHits(_ field: String, current: String) -> Bool {
        let tags = parseList(field)
        if tags.contains("*") { return true }
        let target = opaque(current)
        return tags.contains { opaque($0) == target }
    }

    /// If-Match uses the strong comparison: weak tags never match.
    public static func matchHits(_ field: String, current: String) -> Bool {
        let tags = parseList(field)
        if tags.contains("*") { return true }
        return tags.contains { !$0.hasPrefix("W/") && $0 == current && !current.hasPrefix("W/") }
    }
}

/// Adds a strong ETag and `Cache-Control: private, no-cache` to successful GETs under a prefix, and answers
/// a matching `If-None-Match` with 304 and no body.
public struct ConditionalGET: Middleware {
    public let pathPrefix: String

    public init(pathPrefix: String) { self.pathPrefix = pathPrefix }

    public func handle(_ request: HTTPRequest, next: Handler) throws -> HTTPResponse {
        var response = try next(request)
        guard request.method == "GET" || request.method == "HEAD", response.status == 200, !response.isDeferredOrStreamed,
              request.path.hasPrefix(pathPrefix) else { return response }
        let tag: String
        if let existing = response.headers["ETag"] {
            tag = existing
        } else {
            tag = EntityTag.strong(for: response.body)
            response.headers.add("ETag", tag)
        }
        if !response.headers.contains("Cache-Control") { response.headers.add("Cache-Control", "private, no-cache") }
        if let field = request.headers["If-None-Match"], EntityTag.noneMatchHits(field, current: tag) {
            var notModified = HTTPResponse(status: 304)
            for name in ["ETag", "Cache-Control", "Link", "Vary"] {
                if let value = response.headers[name] { notModified.headers.add(name, value) }
            }
            return notModified
        }
        return response
    }
}
