import FuzzSupport
import HTTPServer

/// What must hold of any event list the parser produces, whatever the bytes were.
struct RequestInvariants {
    let limits: ParserLimits

    func check(_ events: [ObservedEvent]) {
        var open: (head: ObservedHead, framing: BodyFraming)? = nil
        for (index, event) in events.enumerated() {
            switch event {
            case let .head(head, framing, expectsContinue):
                if let open { FuzzDriver.violated("head \(index) arrived while \(open.head.method) \(open.head.target) had no request") }
                check(head)
                if case .contentLength(let length) = framing, length <= 0 || length > limits.maxBodyBytes {
                    FuzzDriver.violated("Content-Length framing of \(length) bytes passed the \(limits.maxBodyBytes)-byte limit")
                }
                if expectsContinue && (framing == .none || head.version != "HTTP/1.1") {
                    FuzzDriver.violated("100-continue flagged for a request without a body or not in HTTP/1.1")
                }
                open = (head, framing)
            case let .request(head, body, trailers):
                guard let current = open, current.head == head else {
                    FuzzDriver.violated("request \(index) does not match the head before it")
                }
                open = nil
                if body.count > limits.maxBodyBytes {
                    FuzzDriver.violated("a body of \(body.count) bytes passed the \(limits.maxBodyBytes)-byte limit")
                }
                switch current.framing {
                case .none where !body.isEmpty:
                    FuzzDriver.violated("a request without body framing delivered \(body.count) bytes")
                case .contentLength(let length) where body.count != length:
                    FuzzDriver.violated("Content-Length \(length) delivered \(body.count) bytes")
                default:
                    break
                }
                if !trailers.isEmpty && current.framing != .chunked {
                    FuzzDriver.violated("trailers on a request that was not chunked")
                }
                if head.headers.count + trailers.count > limits.maxHeaderCount {
                    FuzzDriver.violated("\(head.headers.count) fields and \(trailers.count) trailers passed \(limits.maxHeaderCount)")
                }
                checkFields(trailers, what: "trailer")
                if fieldBytes(trailers) > limits.maxHeaderBytes {
                    FuzzDriver.violated("trailers of \(fieldBytes(trailers)) bytes passed \(limits.maxHeaderBytes)")
                }
            case let .error(status, reason, closes):
                if index != events.count - 1 { FuzzDriver.violated("events followed the error \(status) \(reason)") }
                if !closes { FuzzDriver.violated("error \(status) \(reason) leaves the connection open") }
                if ![400, 413, 414, 417, 431, 501, 505].contains(status) {
                    FuzzDriver.violated("a parse error answered \(status) \(reason)")
                }
            }
        }
    }

    private func check(_ head: ObservedHead) {
        if head.method.isEmpty || !head.method.utf8.allSatisfy(isTokenByte) {
            FuzzDriver.violated("method \(head.method.debugDescription) is not a token")
        }
        if !(head.target.hasPrefix("/") || (head.target == "*" && head.method == "OPTIONS")) {
            FuzzDriver.violated("target \(head.target.debugDescription) is neither a path nor OPTIONS *")
        }
        if head.target.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            FuzzDriver.violated("target \(head.target.debugDescription) holds a byte that must be percent-encoded")
        }
        // Absolute-form targets only get shorter, so the line as received was at least this long.
        let requestLine = head.method.utf8.count + 1 + head.target.utf8.count + 1 + head.version.utf8.count
        if requestLine > limits.maxRequestLineBytes {
            FuzzDriver.violated("a request line of \(requestLine) bytes passed \(limits.maxRequestLineBytes)")
        }
        if head.headers.count > limits.maxHeaderCount {
            FuzzDriver.violated("\(head.headers.count) header fields passed \(limits.maxHeaderCount)")
        }
        if fieldBytes(head.headers) > limits.maxHeaderBytes {
            FuzzDriver.violated("a header block of at least \(fieldBytes(head.headers)) bytes passed \(limits.maxHeaderBytes)")
        }
        checkFields(head.headers, what: "header")
        if head.version == "HTTP/1.1" && head.headers.filter({ $0.name.lowercased() == "host" }).count != 1 {
            FuzzDriver.violated("an HTTP/1.1 request without exactly one Host")
        }
    }

    private func checkFields(_ fields: [ObservedField], what: String) {
        for field in fields {
            if field.name.isEmpty || !field.name.utf8.allSatisfy(isTokenByte) {
                FuzzDriver.violated("\(what) name \(field.name.debugDescription) is not a token")
            }
            // A CR, LF or NUL in a value would let a request smuggle fields into whatever echoes it.
            if field.value.utf8.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) {
                FuzzDriver.violated("\(what) \(field.name) holds CR, LF or NUL: \(field.value.debugDescription)")
            }
            if let first = field.value.utf8.first, first == 0x20 || first == 0x09 {
                FuzzDriver.violated("\(what) \(field.name) value is not trimmed")
            }
            if let last = field.value.utf8.last, last == 0x20 || last == 0x09 {
                FuzzDriver.violated("\(what) \(field.name) value is not trimmed")
            }
        }
    }

    /// The fewest bytes these fields took on the wire: `name:value` and CRLF each. Scalars, not UTF-8 bytes: a
    /// value's bytes that are not UTF-8 arrive as U+FFFD (3 bytes) each, but every scalar took at least one byte.
    private func fieldBytes(_ fields: [ObservedField]) -> Int {
        fields.reduce(0) { $0 + $1.name.unicodeScalars.count + 1 + $1.value.unicodeScalars.count + 2 }
    }

    private func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return Array("!#$%&'*+-.^_`|~".utf8).contains(b)
        }
    }
}
