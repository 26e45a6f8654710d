import XCTest
@testable import HTTPServer

/// Feeds `bytes` to a parser in pieces of `step` bytes (nil: all at once) and collects every event but `.needMore`,
/// stopping after the first error.
func parseEvents(_ bytes: [UInt8], limits: ParserLimits = ParserLimits(), step: Int? = nil) -> [ParseEvent] {
    var parser = RequestParser(limits: limits)
    var events: [ParseEvent] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + (step ?? bytes.count))
        parser.append(bytes[offset..<end])
        offset = end
        while true {
            let event = parser.next()
            if case .needMore = event { break }
            events.append(event)
            if case .error = event { return events }
        }
    }
    return events
}

/// A comparable rendering of an event.
func describe(_ event: ParseEvent) -> String {
    func fields(_ headers: HTTPHeaders) -> String { headers.map { "\($0.name): \($0.value)" }.joined(separator: " | ") }
    switch event {
    case .needMore:
        return "needMore"
    case .head(let head):
        return "head \(head.method) \(head.target) \(head.version.text) \(head.framing) continue=\(head.expectsContinue) [\(fields(head.headers))]"
    case .request(let r):
        return "request \(r.method) \(r.target) body=\(String(decoding: r.body, as: UTF8.self).debugDescription) trailers=[\(fields(r.trailers))]"
    case .error(let e):
        return "error \(e.status) \(e.reason) close=\(e.closesConnection)"
    }
}

final class ParserTests: XCTestCase {
    /// Parses `text` whole and one byte at a time, asserts both give the same events, and returns them.
    private func parse(_ text: String, limits: ParserLimits = ParserLimits(),
                       file: StaticString = #filePath, line: UInt = #line) -> [ParseEvent] {
        parse(Array(text.utf8), limits: limits, file: file, line: line)
    }

    private func parse(_ bytes: [UInt8], limits: ParserLimits = ParserLimits(),
                       file: StaticString = #filePath, line: UInt = #line) -> [ParseEvent] {
        let whole = parseEvents(bytes, limits: limits)
        let bytewise = parseEvents(bytes, limits: limits, step: 1)
        XCTAssertEqual(whole.map(describe), bytewise.map(describe), "whole vs byte-at-a-time", file: file, line: line)
        return whole
    }

    private func requests(_ events: [ParseEvent]) -> [HTTPRequest] {
        events.compactMap { if case .request(let r) = $0 { return r } else { return nil } }
    }

    private func heads(_ events: [ParseEvent]) -> [RequestHead] {
        events.compactMap { if case .head(let h) = $0 { return h } else { return nil } }
    }

    /// Methods and field names come out exactly as sent, whether they are one of the common spellings the parser
    /// keeps ready-made or not (case included: a field name's case is the client's).
    func testMethodsAndFieldNamesKeepTheirSpelling() {
        let text = "PROPFIND /a HTTP/1.1\r\nHost: x\r\nhost-extra: 1\r\nHOST-Ish: 2\r\naccept: */*\r\nX-Request-Id: r\r\n\r\n"
        let head = heads(parse(text)).first
        XCTAssertEqual(head?.method, "PROPFIND")
        XCTAssertEqual(head?.headers.fields.map(\.name), ["Host", "host-extra", "HOST-Ish", "accept", "X-Request-Id"])
        XCTAssertEqual(head?.headers["x-request-id"], "r")
        for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "GETS", "GE"] {
            XCTAssertEqual(heads(parse("\(method) / HTTP/1.1\r\nHost: x\r\n\r\n")).first?.method, method)
        }
    }

    /// Asserts that the bytes end in exactly one error with `status`, that it closes, and that no request came out.
    private func assertRejected(_ text: String, _ status: Int, limits: ParserLimits = ParserLimits(),
                                file: StaticString = #filePath, line: UInt = #line) {
        assertRejected(Array(text.utf8), status, limits: limits, file: file, line: line)
    }

    private func assertRejected(_ bytes: [UInt8], _ status: Int, limits: ParserLimits = ParserLimits(),
                                file: StaticString = #filePath, line: UInt = #line) {
        let events = parse(bytes, limits: limits, file: file, line: line)
        XCTAssertEqual(requests(events).count, 0, "no request expected", file: file, line: line)
        guard case .error(let error)? = events.last else {
            return XCTFail("expected error \(status), got \(events.map(describe))", file: file, line: line)
        }
        XCTAssertEqual(error.status, status, error.description, file: file, line: line)
        XCTAssertTrue(error.closesConnection, "every parse error closes the connection", file: file, line: line)
    }

    // MARK: accepted requests

    func testSimpleGet() {
        let events = parse("GET /hello?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
        XCTAssertEqual(events.map(describe), [
            "head GET /hello?x=1 HTTP/1.1 none continue=false [Host: example.com | Accept: */*]",
            "request GET /hello?x=1 body=\"\" trailers=[]",
        ])
        let request = requests(events)[0]
        XCTAssertEqual(request.path, "/hello")
        XCTAssertEqual(request.query, "x=1")
        XCTAssertEqual(request.version, .http11)
    }

    func testHeaderNamesAreCaseInsensitiveAndValuesTrimmed() {
        let request = requests(parse("GET / HTTP/1.1\r\nhOsT: a\r\nX-THING:   spaced value \t\r\n\r\n"))[0]
        XCTAssertEqual(request.headers["host"], "a")
        XCTAssertEqual(request.headers["HOST"], "a")
        XCTAssertEqual(request.headers["x-thing"], "spaced value")
    }

    func testPipelinedRequestsInOneBuffer() {
        let text = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
            + "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
            + "GET /c HTTP/1.1\r\nHost: h\r\n\r\n"
        let reqs = requests(parse(text))
        XCTAssertEqual(reqs.map(\.target), ["/a", "/b", "/c"])
        XCTAssertEqual(reqs.map { String(decoding: $0.body, as: UTF8.self) }, ["", "xyz", ""])
    }

    func testContentLengthBody() {
        let events = parse("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world")
        XCTAssertEqual(events.map(describe), [
            "head POST /echo HTTP/1.1 contentLength(11) continue=false [Host: h | Content-Length: 11]",
            "request POST /echo body=\"hello world\" trailers=[]",
        ])
    }

    func testIncompleteBodyWaits() {
        let events = parse("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello")
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(heads(events).count, 1)
    }

    func testChunkedBodyWithExtensionsAndTrailers() {
        let text = "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n"
            + "6 ; ext\r\n world\r\n"
            + "A\r\n0123456789\r\n"
            + "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
        let events = parse(text)
        XCTAssertEqual(events.map(describe), [
            "head POST /echo HTTP/1.1 chunked continue=false [Host: h | Transfer-Encoding: chunked]",
            "request POST /echo body=\"hello world0123456789\" trailers=[X-Checksum: abc | X-Other: 1]",
        ])
    }

    func testLeadingEmptyLinesAreIgnored() {
        let reqs = requests(parse("\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(reqs.map(\.target), ["/x"])
    }

    func testAbsoluteFormTargetBecomesOriginForm() {
        let reqs = requests(parse("GET http://example.com:8080/items/7?full=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
                                  + "GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        XCTAssertEqual(reqs.map(\.target), ["/items/7?full=1", "/"])
        XCTAssertEqual(reqs[0].path, "/items/7")
    }

    func testExpectContinueIsFlagged() {
        let events = parse("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n")
        XCTAssertEqual(heads(events).map(\.expectsContinue), [true])
        XCTAssertEqual(requests(events).count, 0, "the body has not arrived")
        let noBody = parse("GET /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(heads(noBody).map(\.expectsContinue), [false], "no body, nothing to continue")
    }

    func testIdenticalDuplicateContentLengthIsAccepted() {
        let reqs = requests(parse("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"))
        XCTAssertEqual(reqs.map { String(decoding: $0.body, as: UTF8.self) }, ["abc"])
    }

    func testHTTP10WithoutHostIsAccepted() {
        let reqs = requests(parse("GET /old HTTP/1.0\r\n\r\n"))
        XCTAssertEqual(reqs.map(\.target), ["/old"])
        XCTAssertEqual(reqs.first?.version, .http10)
    }

    func testBodyExactlyAtLimitIsAccepted() {
        var limits = ParserLimits()
        limits.maxBodyBytes = 4
        XCTAssertEqual(requests(parse("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd", limits: limits)).count, 1)
    }

    // MARK: framing errors (400)

    func testContentLengthWithTransferEncodingIsRejected() {
        assertRejected("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
    }

    func testConflictingContentLengthsAreRejected() {
        assertRejected("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400)
        assertRejected("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\nabcd", 400)
    }

    func testNonNumericContentLengthIsRejected() {
        assertRejected("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", 400)
        assertRejected("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400)
        assertRejected("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", 400)
    }

    func testObsoleteLineFoldingIsRejected() {
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\nX-Long: part one\r\n  part two\r\n\r\n", 400)
    }

    func testSpaceBeforeColonIsRejected() {
        assertRejected("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400)
    }

    func testBareCRIsRejected() {
        assertRejected("GET / HTTP/1.1\r\nHost: h\rX-A: b\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\rHost: h\r\n\r\n", 400)
    }

    func testBareLFIsRejected() {
        assertRejected("GET / HTTP/1.1\nHost: h\r\n\r\n", 400)
        assertRejected("GET / HTTP/1.1\r\nHost: h\n\r\n", 400)
    }

    func testControlBytesInHeaderValueAreRejected() {
        assertRejected(Array("GET / HTTP/1.1\r\nHost: h\r\nX-A: a".utf8) + [0] + Array("b\r\n\r\n".utf8), 400)
        assertRejected(Array("GET / HTTP/1.1\r\nHost: h\r\nX-A: a".utf8) + [0x01] + Array("b\r\n\r\n".utf8), 400)
        assertRejected(Array("GET / HTTP/1.1\r\nHost: h\r\nX-A: a".utf8) + [0x7F] + Array("b\r\n\r\n".utf8), 400)
    }

    func testInvalidChunkSizeIsRejected() {
        let head = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        assertRejected(head + "zz\r\nhello\r\n0\r\n\r\n", 400)
        assertRejected(head + "0x5\r\nhello\r\n0\r\n\r\n", 400)
        assertRejected(head + "\r\nhello\r\n0\r\n\r\n", 400)
        assertRejected(head + "5\nhello\r\n0\r\n\r\n", 400)
    }

    func testChunkDataNotFollowedByCRLFIsRejected() {
        assertRejected("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXY0\r\n\r\n", 400)
    }

    func testMissingHostInHTTP11IsRejected() {
        assertRejected("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400)
    }

    func testTwoHostHeadersAreRejected() {
        assertRejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)
    }

    func testGarbageVersionIsRejected() {
        assertRejected("GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400)
        assertRejected("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400)
    }

    // MARK: unsupported features

    func testUnsupportedTransferEncodingIs501() {
        assertRejected("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501)
        assertRejected("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501)
    }

    func testOtherHTTPVersionsAre505() {
        assertRejected("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505)
        assertRejected("GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505)
    }

    func testUnknownExpectationIs417() {
        assertRejected("POST /x HTTP/1.1\r\nHost: h\r\nExpect: something\r\nContent-Length: 1\r\n\r\nx", 417)
    }

    // MARK: limits

    func testLongRequestLineIs414() {
        assertRejected("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414)
    }

    func testLongRequestLineIsDetectedBeforeItsCRLF() {
        let events = parseEvents(Array(("GET /" + String(repeating: "a", count: 8200)).utf8))
        XCTAssertEqual(events.map(describe), ["error 414 uri_too_long close=true"])
    }

    func testHeaderBlockOver16KiBIs431() {
        let big = "X-Big: " + String(repeating: "b", count: 17 * 1024) + "\r\n"
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\n" + big + "\r\n", 431)
        // Detected while the head is still arriving, too.
        XCTAssertEqual(parseEvents(Array(("GET / HTTP/1.1\r\nHost: h\r\n" + big).utf8)).map(describe), ["error 431 header_fields_too_large close=true"])
    }

    func testMoreThan100FieldsIs431() {
        let fields = (1...101).map { "X-F\($0): v\r\n" }.joined()
        assertRejected("GET / HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n", 431)
        let ninetyNine = (1...99).map { "X-F\($0): v\r\n" }.joined()
        XCTAssertEqual(requests(parse("GET / HTTP/1.1\r\nHost: h\r\n" + ninetyNine + "\r\n")).count, 1, "100 fields are fine")
    }

    func testBodyOverLimitByContentLengthIs413BeforeAnyBodyByte() {
        let events = parse("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1048577\r\n\r\n")
        XCTAssertEqual(events.map(describe), ["error 413 payload_too_large close=true"])
    }

    func testChunkedBodyGrowingPastLimitIs413() {
        var limits = ParserLimits()
        limits.maxBodyBytes = 10
        let text = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n"
        let events = parse(text, limits: limits)
        XCTAssertEqual(events.map(describe), [
            "head POST /x HTTP/1.1 chunked continue=false [Host: h | Transfer-Encoding: chunked]",
            "error 413 payload_too_large close=true",
        ])
    }

    func testAPathWithItsOwnBodyLimitTakesMoreAndOtherPathsKeepTheDefault() {
        var limits = ParserLimits()
        limits.maxBodyBytes = 4
        limits.maxBodyBytesByPath["/upload"] = 8
        XCTAssertEqual(requests(parse("POST /upload?dry_run=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 8\r\n\r\nabcdefgh", limits: limits)).count, 1)
        for target in ["/upload", "/upload?x=1"] {
            let events = parse("POST \(target) HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\n", limits: limits)
            XCTAssertEqual(events.map(describe), ["error 413 payload_too_large close=true"], target)
            if case .error(let failure)? = events.last { XCTAssertEqual(failure.detail, "the request body exceeds 8 bytes") }
        }
        // Another path, or the same one spelt otherwise, has the default limit; chunked bodies are cut at the path's.
        XCTAssertEqual(parse("POST /other HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", limits: limits).map(describe),
                       ["error 413 payload_too_large close=true"])
        XCTAssertEqual(parse("POST /%75pload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", limits: limits).map(describe),
                       ["error 413 payload_too_large close=true"])
        let chunked = "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n2\r\ngh\r\n0\r\n\r\n"
        XCTAssertEqual(requests(parse(chunked, limits: limits)).map(\.body), [Array("abcdefgh".utf8)])
        let over = "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n3\r\nghi\r\n0\r\n\r\n"
        XCTAssertEqual(parse(over, limits: limits).map(describe).last, "error 413 payload_too_large close=true")
    }

    func testAfterAnErrorTheParserStaysFailed() {
        var parser = RequestParser()
        parser.append(Array("GET / HTTP/2.0\r\nHost: h\r\n\r\n".utf8))
        XCTAssertEqual(describe(parser.next()), "error 505 http_version_not_supported close=true")
        parser.append(Array("GET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8))
        XCTAssertEqual(describe(parser.next()), "error 505 http_version_not_supported close=true")
    }

    func testPhaseFollowsTheRequest() {
        var parser = RequestParser()
        XCTAssertEqual(parser.phase, .idle)
        parser.append(Array("POST /x HTTP/1.1\r\nHost: h\r\n".utf8))
        XCTAssertEqual(describe(parser.next()), "needMore")
        XCTAssertEqual(parser.phase, .head)
        parser.append(Array("Content-Length: 2\r\n\r\na".utf8))
        _ = parser.next()
        XCTAssertEqual(describe(parser.next()), "needMore")
        XCTAssertEqual(parser.phase, .body)
        parser.append(Array("b".utf8))
        XCTAssertEqual(describe(parser.next()), "request POST /x body=\"ab\" trailers=[]")
        XCTAssertEqual(parser.phase, .idle)
    }
}

/// The parser's rule — whole and split input give the same events — at the limits too, for every two-piece split.
final class ParserLimitSplitTests: XCTestCase {
    let limits: ParserLimits = {
        var limits = ParserLimits()
        limits.maxRequestLineBytes = 40
        limits.maxHeaderBytes = 60
        limits.maxHeaderCount = 4
        return limits
    }()

    /// Events for the input whole, byte by byte, and split once at every position: all must agree.
    private func agreed(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        let bytes = Array(text.utf8)
        let whole = parseEvents(bytes, limits: limits).map(describe)
        XCTAssertEqual(parseEvents(bytes, limits: limits, step: 1).map(describe), whole, "byte by byte", file: file, line: line)
        for cut in 1..<bytes.count {
            var parser = RequestParser(limits: limits)
            var events: [String] = []
            for piece in [bytes[..<cut], bytes[cut...]] {
                parser.append(piece)
                loop: while true {
                    let event = parser.next()
                    switch event {
                    case .needMore: break loop
                    case .error: events.append(describe(event)); break loop
                    default: events.append(describe(event))
                    }
                }
                if events.last?.hasPrefix("error") == true { break }
            }
            XCTAssertEqual(events, whole, "split at \(cut)", file: file, line: line)
        }
        return whole
    }

    /// A request line of exactly `length` bytes.
    private func requestLine(_ length: Int) -> String {
        let fixed = "GET / HTTP/1.1".utf8.count
        return "GET /" + String(repeating: "a", count: length - fixed) + " HTTP/1.1"
    }

    func testARequestLineOfExactlyTheLimitIsAcceptedHoweverItArrives() {
        let events = agreed(requestLine(40) + "\r\nHost: h\r\n\r\n")
        XCTAssertEqual(events.count, 2)
        XCTAssertTrue(events[1].hasPrefix("request GET /"), "\(events)")
    }

    func testARequestLineOneByteOverTheLimitIs414HoweverItArrives() {
        XCTAssertEqual(agreed(requestLine(41) + "\r\nHost: h\r\n\r\n"), ["error 414 uri_too_long close=true"])
    }

    func testAnOverLongLineEndingInABareLFIs414HoweverItArrives() {
        XCTAssertEqual(agreed(requestLine(45) + "\nHost: h\r\n\r\n"), ["error 414 uri_too_long close=true"])
        // At the limit the bare LF is what is wrong.
        XCTAssertEqual(agreed(requestLine(40) + "\nHost: h\r\n\r\n"), ["error 400 malformed_request close=true"])
    }

    func testAHeaderBlockOfExactlyTheLimitIsAcceptedHoweverItArrives() {
        // Field lines with their CRLFs: "Host: h\r\n" (9) + "X: " + value + "\r\n" = 60.
        let value = String(repeating: "v", count: 60 - 9 - 5)
        let events = agreed("GET / HTTP/1.1\r\nHost: h\r\nX: \(value)\r\n\r\n")
        XCTAssertEqual(events.count, 2, "\(events)")
        XCTAssertTrue(events[1].hasPrefix("request GET /"))
    }

    func testAHeaderBlockOneByteOverTheLimitIs431HoweverItArrives() {
        let value = String(repeating: "v", count: 60 - 9 - 5 + 1)
        XCTAssertEqual(agreed("GET / HTTP/1.1\r\nHost: h\r\nX: \(value)\r\n\r\n"), ["error 431 header_fields_too_large close=true"])
    }

    func testTooManyFieldsIs431HoweverItArrives() {
        XCTAssertEqual(agreed("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), ["error 431 header_fields_too_large close=true"])
        XCTAssertEqual(agreed("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n").count, 2)
    }
}
