/// What the parser found in the bytes it holds.
public enum ParseEvent: Sendable {
    /// More bytes are needed.
    case needMore
    /// A request's head is complete; its body (if any) follows. Emitted once per request, before `.request`.
    case head(RequestHead)
    /// A whole request.
    case request(HTTPRequest)
    /// The bytes break HTTP/1.1 or a limit; answer with the error and close.
    case error(HTTPFailure)
}

/// A pure, incremental HTTP/1.1 request parser (RFC 9112): bytes in, events out; no I/O and no clocks.
public struct RequestParser: Sendable {
    private enum State: Sendable {
        case startLine
        case headFound(RequestHead)
        case body(RequestHead, remaining: Int)
        case chunkSize(RequestHead)
        case chunkData(RequestHead, remaining: Int)
        case chunkDataEnd(RequestHead)
        case trailers(RequestHead)
        case failed(HTTPFailure)
    }

    public let limits: ParserLimits
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var state: State = .startLine
    private var body: [UInt8] = []
    private var trailerFields: [(String, String)] = []
    private var trailerBytes = 0
    private var lineStart = 0
    private var requestLineEnd: Int? = nil

    public init(limits: ParserLimits = ParserLimits()) {
        self.limits = limits
    }

    /// Adds bytes read from the peer.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            scanned = 0
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes held that no event has consumed yet.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Where the current request stands, for the connection's timeouts.
    public var phase: ParserPhase {
        switch state {
        case .startLine: return bufferedByteCount == 0 ? .idle : .head
        case .failed: return .head
        default: return .body
        }
    }

    /// The next event from the bytes held so far. A loop, not recursion: a body of many tiny chunks must not
    /// grow the stack.
    public mutating func next() -> ParseEvent {
        while true {
            switch state {
            case .failed(let error):
                return .error(error)
            case .startLine:
                return parseHead()
            case .headFound(let head):
                switch head.framing {
                case .none: return finish(head)
                case .contentLength(let length):
                    state = .body(head, remaining: length)
                    body.reserveCapacity(length)
                case .chunked:
                    state = .chunkSize(head)
                }
            case .body(let head, let remaining):
                let take = min(remaining, bufferedByteCount)
                body.append(contentsOf: buffer[start..<start + take])
                start += take
                if take == remaining { return finish(head) }
                state = .body(head, remaining: remaining - take)
                return .needMore
            case .chunkSize(let head):
                if let event = parseChunkSize(head) { return event }
            case .chunkData(let head, let remaining):
                let take = min(remaining, bufferedByteCount)
                body.append(contentsOf: buffer[start..<start + take])
                start += take
                guard take == remaining else {
                    state = .chunkData(head, remaining: remaining - take)
                    return .needMore
                }
                state = .chunkDataEnd(head)
            case .chunkDataEnd(let head):
                if bufferedByteCount >= 1 && buffer[start] != 13 || bufferedByteCount >= 2 && buffer[start + 1] != 10 {
                    return fail(.malformedChunk("chunk data is not followed by CRLF"))
                }
                guard bufferedByteCount >= 2 else { return .needMore }
                start += 2
                state = .chunkSize(head)
            case .trailers(let head):
                return parseTrailers(head)
            }
        }
    }

    private mutating func fail(_ error: HTTPFailure) -> ParseEvent {
        var error = error
        error.closesConnection = true
        state = .failed(error)
        return .error(error)
    }

    private mutating func finish(_ head: RequestHead) -> ParseEvent {
        let request = head.makeRequest(body: body, trailers: HTTPHeaders(trailerFields))
        body = []
        trailerFields = []
        trailerBytes = 0
        state = .startLine
        scanned = start
        compact()
        return .request(request)
    }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
            scanned = 0
            start = 0
        } else if start > 16 * 1024 && start > buffer.count / 2 {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
    }

    // MARK: head

    private mutating func parseHead() -> ParseEvent {
        // RFC 9112 §2.2: ignore empty lines received before the request line.
        while bufferedByteCount >= 2 && buffer[start] == 13 && buffer[start + 1] == 10 { start += 2 }
        if bufferedByteCount == 1 && buffer[start] == 13 { return .needMore }
        guard let end = findHeadEnd() else {
            if case .failed(let error) = state { return .error(error) }
            return .needMore
        }
        let headBytes = buffer[start..<end]
        start = end + 4
        scanned = start
        switch HeadParser.parse(headBytes, limits: limits) {
        case .failure(let error):
            return fail(error)
        case .success(let head):
            state = .headFound(head)
            return .head(head)
        }
    }

    /// The offset of the CRLFCRLF that ends the head, nil when it has not arrived yet (or a limit broke).
    ///
    /// Limits are checked at every byte, against the least the finished head could measure given the bytes so far
    /// (a trailing CR may be the start of a line end), so the answer never depends on how the bytes were split into
    /// reads: a request line of exactly the limit passes even when its LF comes alone, and a line past the limit is a
    /// 414 whatever follows it.
    private mutating func findHeadEnd() -> Int? {
        if scanned <= start {
            scanned = start
            lineStart = start
            requestLineEnd = nil
        }
        let count = buffer.count
        let start = start, maxRequestLine = limits.maxRequestLineBytes, maxHeader = limits.maxHeaderBytes
        var requestLineEnd = requestLineEnd, lineStart = lineStart
        // A pointer walk: this loop reads every byte of every request head. The limits need looking at only from
        // the byte where the least the head could measure may pass them (that least never shrinks as bytes come).
        let (found, failure): (Int?, HTTPFailure?) = buffer.withUnsafeBufferPointer { bytes in
            var checkFrom = requestLineEnd.map { $0 + 1 + maxHeader + 1 } ?? start + maxRequestLine + 1
            var i = scanned
            while i < count {
                if i >= checkFrom, let broken = limitFailure(scannedTo: i, requestLineEnd: requestLineEnd, bytes) {
                    return (nil, broken)
                }
                let b = bytes[i]
                if b == 10 {
                    guard i > start, bytes[i - 1] == 13 else {
                        return (nil, .malformed("a line ends in a bare LF; HTTP/1.1 lines end in CRLF"))
                    }
                    if requestLineEnd == nil {
                        requestLineEnd = i
                        checkFrom = i + 1 + maxHeader + 1
                    } else if i - 1 == lineStart {
                        return (i - 3, nil)
                    }
                    lineStart = i + 1
                } else if i > start && bytes[i - 1] == 13 {
                    return (nil, .malformed("a bare CR appears in the request head"))
                }
                i += 1
            }
            return (nil, limitFailure(scannedTo: count, requestLineEnd: requestLineEnd, bytes))
        }
        self.requestLineEnd = requestLineEnd
        self.lineStart = lineStart
        if let failure {
            state = .failed(failure)
            return nil
        }
        if let found { return found }
        // Stop before a trailing CR so that the LF that completes it is checked together with it.
        scanned = count > start && buffer[count - 1] == 13 ? count - 1 : count
        return nil
    }

    /// A limit the head is sure to break, given that bytes [start, end) of it have been seen.
    private func limitFailure(scannedTo end: Int, requestLineEnd: Int?, _ bytes: UnsafeBufferPointer<UInt8>) -> HTTPFailure? {
        guard let requestLine = requestLineEnd else {
            // The request line so far, less a final CR that may be its line end.
            let least = end - start - (end > start && bytes[end - 1] == 13 ? 1 : 0)
            return least > limits.maxRequestLineBytes ? .uriTooLong(limits) : nil
        }
        // The header block counts each field line with its CRLF, not the empty line that ends the head: a final
        // CR right after a line end may be that empty line's.
        let fieldsStart = requestLine + 1
        let endsWithEmptyLineCR = end >= fieldsStart + 1 && bytes[end - 1] == 13 && bytes[end - 2] == 10
        let least = end - fieldsStart - (endsWithEmptyLineCR ? 1 : 0)
        return least > limits.maxHeaderBytes ? .headerFieldsTooLarge(limits) : nil
    }

    // MARK: chunked body

    /// Reads a chunk-size line; nil when the state moved on and parsing continues.
    private mutating func parseChunkSize(_ head: RequestHead) -> ParseEvent? {
        guard let lf = lineEnd(maxLength: 4096) else {
            if bufferedByteCount > 4096 { return fail(.malformedChunk("chunk-size line too long")) }
            return .needMore
        }
        guard lf > start, buffer[lf - 1] == 13 else { return fail(.malformedChunk("chunk-size line must end in CRLF")) }
        let line = buffer[start..<(lf - 1)]
        var size = 0
        var digits = 0
        var idx = line.startIndex
        while idx < line.endIndex, let v = PercentDecoding.hexValue(line[idx]) {
            digits += 1
            guard digits <= 15 else { return fail(.malformedChunk("chunk size too large")) }
            size = size << 4 | Int(v)
            idx += 1
        }
        guard digits > 0 else { return fail(.malformedChunk("invalid chunk size")) }
        // What follows the size may only be chunk extensions (`;name=value`), after optional whitespace.
        var rest = line[idx...].drop { $0 == 0x20 || $0 == 0x09 }
        if let first = rest.first {
            guard first == UInt8(ascii: ";"), rest.allSatisfy(HTTPGrammar.isFieldValueChar) else {
                return fail(.malformedChunk("invalid chunk size"))
            }
            rest = rest.dropFirst()
        }
        start = lf + 1
        if size == 0 {
            state = .trailers(head)
            return nil
        }
        guard body.count + size <= head.maxBodyBytes else {
            return fail(.payloadTooLarge(limit: head.maxBodyBytes))
        }
        state = .chunkData(head, remaining: size)
        return nil
    }

    private func lineEnd(maxLength: Int) -> Int? {
        var i = start
        let limit = min(buffer.count, start + maxLength)
        while i < limit { if buffer[i] == 10 { return i }; i += 1 }
        return nil
    }

    private mutating func parseTrailers(_ head: RequestHead) -> ParseEvent {
        while true {
            guard let lf = lineEnd(maxLength: limits.maxHeaderBytes + 2) else {
                if bufferedByteCount > limits.maxHeaderBytes { return fail(.headerFieldsTooLarge(limits)) }
                return .needMore
            }
            guard lf > start, buffer[lf - 1] == 13 else { return fail(.malformedChunk("trailer line must end in CRLF")) }
            if lf - 1 == start {
                start = lf + 1
                return finish(head)
            }
            trailerBytes += lf + 1 - start
            let field = HeadParser.parseField(buffer[start..<(lf - 1)])
            start = lf + 1
            switch field {
            case .failure(let error): return fail(error)
            case .success(let pair):
                trailerFields.append(pair)
                if trailerBytes > limits.maxHeaderBytes || trailerFields.count + head.headers.count > limits.maxHeaderCount {
                    return fail(.headerFieldsTooLarge(limits))
                }
            }
        }
    }
}
