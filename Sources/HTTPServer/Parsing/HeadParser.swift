import Glibc

/// Parses a request head (request line and header fields, without the final CRLFCRLF) and checks its framing.
enum HeadParser {
    private static func bad(_ detail: String) -> HTTPFailure { .malformed(detail) }

    static func parse(_ bytes: ArraySlice<UInt8>, limits: ParserLimits) -> Result<RequestHead, HTTPFailure> {
        bytes.withUnsafeBufferPointer { parse($0, limits: limits) }
    }

    /// The head's bytes through a pointer: every byte of every request head passes these loops.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, limits: ParserLimits) -> Result<RequestHead, HTTPFailure> {
        // The head was scanned already: every LF is preceded by CR, so lines split cleanly on CRLF. One pass over
        // the lines, without collecting them: this runs for every request.
        let end = bytes.count
        var lineEnd = 0
        while lineEnd < end && !(bytes[lineEnd] == 13 && lineEnd + 1 < end && bytes[lineEnd + 1] == 10) { lineEnd += 1 }
        let requestLine = UnsafeBufferPointer(rebasing: bytes[0..<lineEnd])
        if requestLine.count > limits.maxRequestLineBytes { return .failure(.uriTooLong(limits)) }
        // Field lines are what follows the request line's CRLF; the block counts one CRLF per line.
        let fieldsStart = lineEnd < end ? lineEnd + 2 : end
        var fieldCount = 0
        if fieldsStart < end || lineEnd < end {
            fieldCount = 1
            var k = fieldsStart
            while k + 1 < end {
                if bytes[k] == 13 && bytes[k + 1] == 10 { fieldCount += 1; k += 2 } else { k += 1 }
            }
        }
        let headerBytes = fieldCount == 0 ? 0 : end - fieldsStart + 2
        if headerBytes > limits.maxHeaderBytes || fieldCount > limits.maxHeaderCount {
            return .failure(.headerFieldsTooLarge(limits))
        }
        let method: String, target: String, version: HTTPVersion
        switch parseRequestLine(requestLine) {
        case .failure(let error): return .failure(error)
        case .success(let parts): (method, target, version) = parts
        }
        var headers = HTTPHeaders(capacity: fieldCount)
        var framing = FramingFields()
        var start = fieldsStart
        while fieldCount > 0 && start <= end {
            var stop = start
            while stop < end && !(bytes[stop] == 13 && stop + 1 < end && bytes[stop + 1] == 10) { stop += 1 }
            switch parseField(UnsafeBufferPointer(rebasing: bytes[start..<stop])) {
            case .failure(let error): return .failure(error)
            case .success(let (name, value)):
                framing.note(name, value)
                headers.add(name, value)
            }
            start = stop + 2
        }
        return checkFraming(method: method, target: target, version: version, headers: headers, fields: framing, limits: limits)
    }

    /// The fields that decide framing, noted while the head is read so they need no second search.
    private struct FramingFields {
        var hosts = 0
        var transferEncodings: [String] = []
        var hasTransferEncoding = false
        var contentLengths: [String] = []
        var expect: String?

        mutating func note(_ name: String, _ value: String) {
            switch name.utf8.count {
            case 4 where name.equalsIgnoringASCIICase("Host"): hosts += 1
            case 6 where name.equalsIgnoringASCIICase("Expect"): if expect == nil { expect = value }
            case 14 where name.equalsIgnoringASCIICase("Content-Length"): contentLengths.append(value)
            case 17 where name.equalsIgnoringASCIICase("Transfer-Encoding"):
                hasTransferEncoding = true
                for part in value.utf8.split(separator: UInt8(ascii: ",")) {
                    let element = Substring(part).trimmingHTTPWhitespace()
                    if !element.isEmpty { transferEncodings.append(element.lowercased()) }
                }
            default: break
            }
        }
    }

    private static func parseRequestLine(_ line: UnsafeBufferPointer<UInt8>) -> Result<(String, String, HTTPVersion), HTTPFailure> {
        // Exactly two spaces: METHOD SP target SP version.
        guard let firstSpace = line.firstIndex(of: 0x20),
              let secondSpace = line[(firstSpace + 1)...].firstIndex(of: 0x20),
              line[(secondSpace + 1)...].firstIndex(of: 0x20) == nil else {
            return .failure(bad("the request line must be METHOD SP target SP HTTP-version"))
        }
        let methodBytes = line[line.startIndex..<firstSpace], targetBytes = line[(firstSpace + 1)..<secondSpace]
        guard !methodBytes.isEmpty, !targetBytes.isEmpty else {
            return .failure(bad("the request line must be METHOD SP target SP HTTP-version"))
        }
        guard methodBytes.allSatisfy(HTTPGrammar.isTokenChar) else { return .failure(bad("invalid method")) }
        guard targetBytes.allSatisfy(HTTPGrammar.isTargetChar) else {
            return .failure(bad("the request target holds a character that must be percent-encoded"))
        }
        let v = line[(secondSpace + 1)...]
        let b = v.startIndex
        guard v.count == 8, v[b] == UInt8(ascii: "H"), v[b + 1] == UInt8(ascii: "T"), v[b + 2] == UInt8(ascii: "T"),
              v[b + 3] == UInt8(ascii: "P"), v[b + 4] == UInt8(ascii: "/"), (48...57).contains(v[b + 5]), v[b + 6] == UInt8(ascii: "."),
              (48...57).contains(v[b + 7]) else {
            return .failure(bad("invalid HTTP version"))
        }
        let version: HTTPVersion
        switch (v[b + 5], v[b + 7]) {
        case (49, 49): version = .http11
        case (49, 48): version = .http10
        default:
            return .failure(HTTPFailure(status: 505, reason: .httpVersionNotSupported,
                                        detail: "this server speaks HTTP/1.0 and HTTP/1.1", closesConnection: true))
        }
        let method = Interned.method(UnsafeBufferPointer(rebasing: methodBytes))
        var target = String(decoding: targetBytes, as: UTF8.self)
        if targetBytes.first != UInt8(ascii: "/") {
            if target == "*" {
                guard method == "OPTIONS" else { return .failure(bad("'*' is only a target for OPTIONS")) }
            } else if let path = originForm(ofAbsolute: target) {
                target = path
            } else {
                return .failure(bad("the request target must be a path starting with '/'"))
            }
        }
        return .success((method, target, version))
    }

    /// RFC 9112 §3.2.2: a server accepts absolute-form and uses its path and query.
    private static func originForm(ofAbsolute target: String) -> String? {
        let lower = target.lowercased()
        let schemeEnd: String.Index
        if lower.hasPrefix("http://") {
            schemeEnd = target.index(target.startIndex, offsetBy: 7)
        } else if lower.hasPrefix("https://") {
            schemeEnd = target.index(target.startIndex, offsetBy: 8)
        } else {
            return nil
        }
        let rest = target[schemeEnd...]
        guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return rest.isEmpty ? nil : "/" }
        let path = String(rest[slash...])
        return path.first == "?" ? "/" + path : path
    }

    static func parseField(_ line: ArraySlice<UInt8>) -> Result<(String, String), HTTPFailure> {
        line.withUnsafeBufferPointer { parseField($0) }
    }

    static func parseField(_ line: UnsafeBufferPointer<UInt8>) -> Result<(String, String), HTTPFailure> {
        guard let first = line.first else { return .failure(bad("empty header line")) }
        if first == 0x20 || first == 0x09 {
            return .failure(bad("obsolete line folding is not accepted"))
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return .failure(bad("a header line has no colon")) }
        let name = UnsafeBufferPointer(rebasing: line[0..<colon])
        guard !name.isEmpty else { return .failure(bad("a header field has an empty name")) }
        if let last = name.last, last == 0x20 || last == 0x09 {
            return .failure(bad("whitespace between a header name and the colon is not allowed"))
        }
        guard name.allSatisfy(HTTPGrammar.isTokenChar) else { return .failure(bad("invalid character in a header name")) }
        var valueStart = colon + 1, valueEnd = line.count
        for i in valueStart..<valueEnd where !HTTPGrammar.isFieldValueChar(line[i]) {
            return .failure(bad("control character in the value of header \(String(decoding: name, as: UTF8.self))"))
        }
        while valueStart < valueEnd, line[valueStart] == 0x20 || line[valueStart] == 0x09 { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        let value = UnsafeBufferPointer(rebasing: line[valueStart..<valueEnd])
        return .success((Interned.fieldName(name), String(decoding: value, as: UTF8.self)))
    }

    private static func checkFraming(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders,
                                     fields: FramingFields, limits: ParserLimits) -> Result<RequestHead, HTTPFailure> {
        if version == .http11 && fields.hosts == 0 { return .failure(bad("an HTTP/1.1 request must carry a Host header")) }
        if fields.hosts > 1 { return .failure(bad("more than one Host header")) }

        var framing = BodyFraming.none
        // Looked up only for a request that has a body: most have none.
        let hasBody = fields.hasTransferEncoding || !fields.contentLengths.isEmpty
        let maxBody = hasBody ? limits.maxBodyBytes(forTarget: target) : limits.maxBodyBytes
        let codings = fields.transferEncodings
        let lengths = fields.contentLengths
        if fields.hasTransferEncoding {
            if !lengths.isEmpty { return .failure(bad("Content-Length and Transfer-Encoding must not both be sent")) }
            if version == .http10 { return .failure(bad("Transfer-Encoding is not defined for HTTP/1.0")) }
            let chunkedCount = codings.filter { $0 == "chunked" }.count
            if chunkedCount > 1 || (chunkedCount == 1 && codings.last != "chunked") || codings.isEmpty {
                return .failure(bad("chunked must be the final transfer coding, once"))
            }
            if codings != ["chunked"] {
                return .failure(HTTPFailure(status: 501, reason: .unsupportedTransferEncoding,
                                            detail: "only the chunked transfer coding is supported", closesConnection: true))
            }
            framing = .chunked
        } else if !lengths.isEmpty {
            var value: Int? = nil
            for element in lengths.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
                let text = element.trimmingHTTPWhitespace()
                guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(text) else {
                    return .failure(bad("invalid Content-Length"))
                }
                if let value, value != n { return .failure(bad("conflicting Content-Length values")) }
                value = n
            }
            let length = value ?? 0
            if length > maxBody {
                return .failure(.payloadTooLarge(limit: maxBody))
            }
            framing = length > 0 ? .contentLength(length) : .none
        }

        var expectsContinue = false
        if let expect = fields.expect {
            if expect.equalsIgnoringASCIICase("100-continue") && fields.hosts <= 1 {
                expectsContinue = version == .http11 && framing != .none
            } else {
                return .failure(HTTPFailure(status: 417, reason: .expectationFailed,
                                            detail: "only 'Expect: 100-continue' is supported", closesConnection: true))
            }
        }
        return .success(RequestHead(method: method, target: target, version: version, headers: headers,
                                    framing: framing, expectsContinue: expectsContinue, maxBodyBytes: maxBody))
    }
}

/// The methods and field names nearly every request carries, made once: a head that spells one exactly (case and
/// all) gets the same text without building and checking a new string.
enum Interned {
    private static let methods = table(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    private static let fieldNames = table([
        "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Connection", "Content-Type",
        "Content-Length", "Authorization", "If-None-Match", "If-Match", "Origin", "Referer", "Idempotency-Key",
        "X-Request-ID", "Cache-Control", "Transfer-Encoding", "Expect", "Cookie", "Prefer",
        "host", "user-agent", "accept", "accept-encoding", "connection", "content-type", "content-length",
        "authorization", "if-none-match", "if-match", "origin", "idempotency-key", "x-request-id",
    ])

    private static func table(_ texts: [String]) -> [(bytes: [UInt8], text: String)] {
        texts.map { (Array($0.utf8), $0) }
    }

    static func method(_ bytes: UnsafeBufferPointer<UInt8>) -> String { lookup(bytes, in: methods) }

    static func fieldName(_ bytes: UnsafeBufferPointer<UInt8>) -> String { lookup(bytes, in: fieldNames) }

    private static func lookup(_ bytes: UnsafeBufferPointer<UInt8>, in table: [(bytes: [UInt8], text: String)]) -> String {
        table.first { $0.bytes.hasSameBytes(as: bytes) }?.text ?? String(decoding: bytes, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    /// Whether these are exactly the bytes of `other`: a length check, then one `memcmp` (router segments,
    /// interned names).
    func hasSameBytes(as other: UnsafeBufferPointer<UInt8>) -> Bool {
        guard count == other.count else { return false }
        guard let base = other.baseAddress, !isEmpty else { return true }
        return withUnsafeBufferPointer { memcmp($0.baseAddress!, base, count) == 0 }
    }
}
