import JSON
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import HTTPServer

final class LimitsAndTimeoutsTests: ServerTestCase {
    /// Sends `request`, expects a problem response with `status` and the connection closed afterwards.
    private func assertRefused(_ request: String, _ status: Int, code: String, server: TestServer? = nil,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let server = try server ?? startServer()
        let client = try server.client()
        try client.send(request)
        let response = try client.readResponse()
        XCTAssertEqual(response.status, status, response.bodyText, file: file, line: line)
        XCTAssertEqual(response["Connection"], "close", file: file, line: line)
        XCTAssertEqual(response["Content-Type"], "application/problem+json", file: file, line: line)
        XCTAssertEqual(try JSONParser.parse(response.body)["code"], .string(code), file: file, line: line)
        assertStandardHeaders(response, file: file, line: line)
        assertClosedByServer(client, file: file, line: line)
    }

    func testLongRequestLineIs414AndCloses() throws {
        try assertRefused("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414, code: "uri_too_long")
    }

    func testLongRequestLineIs414BeforeItEnds() throws {
        try assertRefused("GET /" + String(repeating: "a", count: 9000), 414, code: "uri_too_long")
    }

    func testLargeHeaderBlockIs431AndCloses() throws {
        let big = "X-Big: " + String(repeating: "b", count: 17 * 1024) + "\r\n"
        try assertRefused("GET /hello HTTP/1.1\r\nHost: h\r\n" + big + "\r\n", 431, code: "header_fields_too_large")
    }

    func testTooManyHeaderFieldsIs431AndCloses() throws {
        let fields = (1...101).map { "X-F\($0): v\r\n" }.joined()
        try assertRefused("GET /hello HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n", 431, code: "header_fields_too_large")
    }

    func testOversizedContentLengthIs413WithoutSendingTheBody() throws {
        try assertRefused("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1048577\r\n\r\n", 413, code: "payload_too_large")
    }

    func testOversizedContentLengthIs413EvenWithExpectContinue() throws {
        try assertRefused("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 99999999\r\n\r\n",
                          413, code: "payload_too_large")
    }

    func testChunkedBodyPastTheLimitIs413() throws {
        let server = try startServer { $0.limits.maxBodyBytes = 8 }
        try assertRefused("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n",
                          413, code: "payload_too_large", server: server)
    }

    func testMalformedFramingIs400AndCloses() throws {
        let server = try startServer()
        let cases = [
            "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nabc\r\n0\r\n\r\n",
            "GET /hello HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n",
            "GET /hello HTTP/1.1\r\nHost : h\r\n\r\n",
            "GET /hello HTTP/1.1\r\nAccept: */*\r\n\r\n",
            "GET /hello HTTP/1.1\nHost: h\n\n",
        ]
        for request in cases {
            try assertRefused(request, 400, code: request.contains("xyz") ? "malformed_chunk" : "malformed_request", server: server)
        }
    }

    func testErrorAfterAValidPipelinedRequestComesSecond() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("GET /items/ok HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost : h\r\n\r\n")
        let first = try client.readResponse()
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.bodyText, "ok")
        XCTAssertEqual(try client.readResponse().status, 400)
        assertClosedByServer(client)
    }

    func testUnsupportedVersionIs505() throws {
        try assertRefused("GET /hello HTTP/2.0\r\nHost: h\r\n\r\n", 505, code: "http_version_not_supported")
    }

    func testUnsupportedTransferCodingIs501() throws {
        try assertRefused("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                          501, code: "unsupported_transfer_encoding")
    }

    func testUnknownExpectationIs417() throws {
        try assertRefused("POST /echo HTTP/1.1\r\nHost: h\r\nExpect: something\r\nContent-Length: 1\r\n\r\nx",
                          417, code: "expectation_failed")
    }

    // MARK: timeouts

    func testHeaderTimeoutAnswers408AndCloses() throws {
        let server = try startServer { $0.headerTimeout = .milliseconds(300) }
        let client = try server.client()
        try client.send("GET /hel")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408)
        XCTAssertEqual(response["Connection"], "close")
        XCTAssertEqual(try JSONParser.parse(response.body)["code"], .string("request_timeout"))
        assertStandardHeaders(response)
        assertClosedByServer(client)
    }

    func testHeaderTimeoutOnKeptAliveConnectionCountsFromTheNextRequest() throws {
        let server = try startServer {
            $0.headerTimeout = .milliseconds(300)
            $0.idleTimeout = .seconds(30)
        }
        let client = try server.client()
        XCTAssertEqual(try client.get("/hello").status, 200)
        try client.send("GET /hel")
        XCTAssertEqual(try client.readResponse().status, 408)
        assertClosedByServer(client)
    }

    func testIdleKeepAliveConnectionIsClosedSilently() throws {
        let server = try startServer { $0.idleTimeout = .milliseconds(300) }
        let client = try server.client()
        XCTAssertEqual(try client.get("/hello").status, 200)
        let start = Date()
        assertClosedByServer(client)
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 0.2, "closed before the idle timeout")
    }

    func testBodyStallClosesTheConnection() throws {
        let server = try startServer { $0.bodyTimeout = .milliseconds(300) }
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
        assertClosedByServer(client)
        XCTAssertTrue(eventually { server.server.openConnections == 0 })
    }

    func testSlowButSteadyBodyIsNotCut() throws {
        let server = try startServer { $0.bodyTimeout = .milliseconds(400) }
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n")
        for byte in ["a", "b", "c", "d"] {
            usleep(150_000)
            try client.send(byte)
        }
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "abcd")
    }

    func testUnreadLargeResponseIsCutByWriteTimeoutWithoutBlockingOthers() throws {
        let server = try startServer { $0.writeTimeout = .milliseconds(500) }
        let stalled = try server.client(receiveBufferSize: 4096)
        try stalled.send("GET /big HTTP/1.1\r\nHost: h\r\n\r\n")
        let other = try server.client()
        for _ in 0..<3 {
            XCTAssertEqual(try other.get("/hello").bodyText, "hello")
        }
        other.close()
        XCTAssertTrue(eventually { server.server.openConnections == 0 }, "the stalled connection is cut")
        let (received, end) = stalled.readToEnd(timeout: 5)
        XCTAssertNotEqual(end, .timedOut)
        XCTAssertLessThan(received.count, 8 * 1024 * 1024, "the whole response cannot have been sent")
    }

    // MARK: connection limit

    func testConnectionLimitRefusesWith503AndRecovers() throws {
        let server = try startServer { $0.maxConnections = 2 }
        let first = try server.client()
        let second = try server.client()
        XCTAssertEqual(try first.get("/hello").status, 200)
        XCTAssertEqual(try second.get("/hello").status, 200)

        // The refusal comes unasked: sending a request could race the server's close into a reset.
        let third = try server.client()
        let refused = try third.readResponse()
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused["Connection"], "close")
        XCTAssertEqual(refused["Retry-After"], "1")
        XCTAssertEqual(refused["X-Content-Type-Options"], "nosniff")
        XCTAssertEqual(try JSONParser.parse(refused.body)["code"], .string("service_unavailable"))
        assertClosedByServer(third)

        first.close()
        var served: WireResponse?
        let recovered = eventually {
            guard let client = try? server.client(), let response = try? client.get("/items/again") else { return false }
            served = response
            return response.status == 200
        }
        XCTAssertTrue(recovered, "a new client is served once a slot is free")
        XCTAssertEqual(served?.bodyText, "again")
        XCTAssertEqual(try second.get("/hello").status, 200, "the remaining client is unaffected")
    }
}

/// Past the connection limit, probe paths are still answered (on a few extra, one-request connections).
final class ProbesUnderFloodTests: ServerTestCase {
    func testProbesAreAnsweredPastTheConnectionLimitAndEverythingElseGets503() throws {
        let server = try startServer {
            $0.maxConnections = 2
            $0.probePaths = ["/hello"]
            $0.probeConnections = 2
        }
        let held = [try server.client(), try server.client()]
        for client in held { XCTAssertEqual(try client.get("/items/x").status, 200) }
        XCTAssertTrue(eventually { server.server.openConnections == 2 })

        let probe = try server.client()
        let answered = try probe.get("/hello")
        XCTAssertEqual(answered.status, 200)
        XCTAssertEqual(answered.bodyText, "hello")
        XCTAssertEqual(answered["Connection"], "close", "a probe connection serves one request")
        assertClosedByServer(probe)

        let other = try server.client()
        let refused = try other.get("/items/y")
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused["Retry-After"], "1")
        assertClosedByServer(other)

        // The extra connections are bounded: past them, a new connection is refused at once.
        let silent = [try server.client(), try server.client()]
        XCTAssertTrue(eventually { server.server.openConnections == 4 })
        let beyond = try server.client()
        XCTAssertEqual(try beyond.readResponse().status, 503, "refused without being asked anything")
        _ = silent
        // The held connections were never disturbed.
        for client in held { XCTAssertEqual(try client.get("/items/z").status, 200) }
    }
}
