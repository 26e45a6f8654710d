import JSON
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import HTTPServer

final class ServerTests: ServerTestCase {
    func testKeepAliveServesTwoRequestsOnOneSocket() throws {
        let server = try startServer()
        let client = try server.client()
        let first = try client.get("/hello")
        XCTAssertEqual(first.version, "HTTP/1.1")
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.reason, "OK")
        XCTAssertEqual(first.bodyText, "hello")
        XCTAssertEqual(first["Content-Length"], "5")
        XCTAssertEqual(first["Content-Type"], "text/plain; charset=utf-8")
        XCTAssertNil(first["Connection"])
        assertStandardHeaders(first)
        let second = try client.get("/items/12")
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(second.bodyText, "12")
        XCTAssertEqual(server.server.openConnections, 1, "both requests used the same connection")
    }

    func testConnectionCloseClosesAfterTheResponse() throws {
        let server = try startServer()
        let client = try server.client()
        let response = try client.get("/hello", headers: "Connection: close\r\n")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "hello")
        XCTAssertEqual(response["Connection"], "close")
        assertClosedByServer(client)
    }

    func testHTTP10WithoutKeepAliveCloses() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("GET /hello HTTP/1.0\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "hello")
        XCTAssertEqual(response["Connection"], "close")
        assertClosedByServer(client)
    }

    func testHTTP10WithKeepAliveStaysOpen() throws {
        let server = try startServer()
        let client = try server.client()
        for path in ["/hello", "/items/x"] {
            try client.send("GET \(path) HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response["Connection"], "keep-alive")
        }
        XCTAssertEqual(server.server.openConnections, 1)
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("GET /items/1 HTTP/1.1\r\nHost: h\r\n\r\n"
                        + "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nsecond"
                        + "GET /items/3 HTTP/1.1\r\nHost: h\r\n\r\n")
        let bodies = try (1...3).map { _ in try client.readResponse().bodyText }
        XCTAssertEqual(bodies, ["1", "second", "3"])
    }

    /// Handlers run on the event loop: thousands of pipelined requests answered at once must not nest one call per
    /// request (the loop's stack is 1 MiB).
    func testTwoThousandPipelinedRequestsAreAnsweredInOrder() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send(String(repeating: "GET /items/7 HTTP/1.1\r\nHost: h\r\n\r\n", count: 2000))
        for i in 0..<2000 {
            let response = try client.readResponse()
            XCTAssertEqual(response.bodyText, "7", "response \(i)")
            if response.bodyText != "7" { break }
        }
    }

    /// An offloaded route runs on the worker pool: while its handler waits, its event loop (the only one here) goes on
    /// answering other connections.
    func testAnOffloadedHandlerDoesNotHoldItsEventLoop() throws {
        let server = try startServer {
            $0.eventLoopCount = 1
            $0.offloadedPathPrefixes = ["/slow"]
        }
        server.slowGate.close()
        let slow = try server.client()
        try slow.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
        XCTAssertTrue(server.slowGate.waitForArrival(), "the slow handler started")
        let fast = try server.client()
        try fast.send("GET /items/2 HTTP/1.1\r\nHost: h\r\n\r\n")
        XCTAssertEqual(try fast.readResponse(timeout: 2).bodyText, "2", "answered while the slow handler is held at its gate (for up to 5 s)")
        server.slowGate.open()
        XCTAssertEqual(try slow.readResponse().bodyText, "slow")
    }

    func testChunkedUploadIsEchoedWithTrailers() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
        try client.send("4;ext=1\r\nWiki\r\n")
        try client.send("5\r\npedia\r\n0\r\nX-Sum: 42\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "Wikipedia")
        XCTAssertEqual(response["X-Trailers"], "X-Sum=42")
    }

    func testExpectContinueGetsInterimResponseBeforeTheBody() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        try client.expectBytes("HTTP/1.1 100 Continue\r\n\r\n")
        try client.send("abcde")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "abcde")
    }

    func testHeadHasContentLengthOfGetButNoBody() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\n")
        let head = try client.readResponse(hasBody: false)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head["Content-Length"], "5")
        XCTAssertEqual(head.body, [])
        // The next response starts right after the head: no body bytes were sent in between.
        let next = try client.get("/items/after-head")
        XCTAssertEqual(next.status, 200)
        XCTAssertEqual(next.bodyText, "after-head")
    }

    func testWrongMethodIs405WithAllow() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("DELETE /hello HTTP/1.1\r\nHost: h\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response["Allow"], "GET, HEAD, OPTIONS")
        XCTAssertEqual(response["Content-Type"], "application/problem+json")
        assertStandardHeaders(response)
        let problem = try JSONParser.parse(response.body)
        XCTAssertEqual(problem["status"], .number("405"))
        XCTAssertEqual(problem["code"], .string("method_not_allowed"))
        XCTAssertEqual(problem["request_id"], response["X-Request-ID"].map(JSONValue.string))
    }

    func testOptionsAnswers204WithAllow() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("OPTIONS /items/5 HTTP/1.1\r\nHost: h\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 204)
        XCTAssertEqual(response["Allow"], "GET, HEAD, OPTIONS")
        XCTAssertNil(response["Content-Length"])
    }

    func testUnknownPathIs404Problem() throws {
        let server = try startServer()
        let client = try server.client()
        let response = try client.get("/nowhere")
        XCTAssertEqual(response.status, 404)
        XCTAssertEqual(response["Content-Type"], "application/problem+json")
        let problem = try JSONParser.parse(response.body)
        XCTAssertEqual(problem["instance"], .string("/nowhere"))
        XCTAssertEqual(problem["type"], .string("/problems/not-found"))
        assertStandardHeaders(response)
    }

    func testValidRequestIDIsEchoed() throws {
        let server = try startServer()
        let client = try server.client()
        let id = "abc-DEF_1.2-" + String(repeating: "x", count: 116)
        XCTAssertEqual(id.count, 128)
        let response = try client.get("/hello", headers: "X-Request-ID: \(id)\r\n")
        XCTAssertEqual(response["X-Request-ID"], id)
        let error = try client.get("/nowhere", headers: "X-Request-ID: trace-7\r\n")
        XCTAssertEqual(error["X-Request-ID"], "trace-7")
        XCTAssertEqual(try JSONParser.parse(error.body)["request_id"], .string("trace-7"))
    }

    func testInvalidRequestIDIsReplaced() throws {
        let server = try startServer()
        let client = try server.client()
        for sent in [String(repeating: "a", count: 200), "has space", "semi;colon", "é"] {
            let response = try client.get("/hello", headers: "X-Request-ID: \(sent)\r\n")
            let id = response["X-Request-ID"] ?? ""
            XCTAssertNotEqual(id, sent)
            XCTAssertTrue(RequestID.isAcceptable(id), id)
        }
        let a = try client.get("/hello")["X-Request-ID"]
        let b = try client.get("/hello")["X-Request-ID"]
        XCTAssertNotNil(a)
        XCTAssertNotEqual(a, b, "generated ids are unique")
    }

    func testThrowingHandlerGives500WithoutInternals() throws {
        let server = try startServer()
        let client = try server.client()
        let response = try client.get("/boom")
        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(response["Content-Type"], "application/problem+json")
        assertStandardHeaders(response)
        let problem = try JSONParser.parse(response.body)
        XCTAssertEqual(problem["code"], .string("internal_error"))
        XCTAssertEqual(problem["status"], .number("500"))
        for secret in ["hunter2", "password", "secret", "SecretFailure", "/var/lib"] {
            XCTAssertFalse(response.bodyText.contains(secret), "the body leaks \(secret)")
        }
        XCTAssertEqual(try client.get("/hello").status, 200, "the connection survives a 500")
    }

    func testClientVanishingMidBodyDoesNotDisturbOthers() throws {
        let server = try startServer()
        let other = try server.client()
        XCTAssertEqual(try other.get("/hello").status, 200)
        let leaver = try server.client()
        try leaver.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\npartial")
        leaver.close()
        try other.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nrest")
        let response = try other.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "rest")
        XCTAssertTrue(eventually { server.server.openConnections == 1 }, "the vanished client's connection is closed")
    }

    func testGracefulShutdownFinishesInFlightRequest() throws {
        let server = try startServer()
        let client = try server.client()
        server.slowGate.close()
        try client.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
        XCTAssertTrue(server.slowGate.waitForArrival(), "the slow handler started")
        let finished = DispatchSemaphore(value: 0)
        let http = server.server
        Thread.detachNewThread {
            http.shutdown()
            finished.signal()
        }
        XCTAssertTrue(eventually { http.isShuttingDown })
        server.slowGate.open()
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "slow")
        XCTAssertEqual(response["Connection"], "close")
        assertClosedByServer(client)
        client.close()
        XCTAssertEqual(finished.wait(timeout: .now() + 10), .success, "shutdown returns once the request is done")
        XCTAssertEqual(TestClient.connectErrno(port: server.port), ECONNREFUSED)
    }

    func testShutdownClosesIdleKeepAliveConnections() throws {
        let server = try startServer()
        let client = try server.client()
        XCTAssertEqual(try client.get("/hello").status, 200)
        let finished = DispatchSemaphore(value: 0)
        let http = server.server
        Thread.detachNewThread {
            http.shutdown()
            finished.signal()
        }
        assertClosedByServer(client)
        XCTAssertEqual(finished.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(http.openConnections, 0)
    }

    func testNoDescriptorLeakAfter200Connections() throws {
        let server = try startServer()
        let warmup = try server.client()
        XCTAssertEqual(try warmup.get("/hello").status, 200)
        warmup.close()
        XCTAssertTrue(eventually { server.server.openConnections == 0 })
        let before = try openDescriptorCount()
        for i in 0..<200 {
            let client = try server.client()
            switch i % 4 {
            case 0: XCTAssertEqual(try client.get("/hello").status, 200)
            case 1: XCTAssertEqual(try client.get("/hello", headers: "Connection: close\r\n").status, 200)
            case 2: try client.send("GET /hel")
            default: break
            }
            client.close()
        }
        XCTAssertTrue(eventually { server.server.openConnections == 0 }, "open: \(server.server.openConnections)")
        var after = 0
        let settled = eventually {
            after = (try? openDescriptorCount()) ?? Int.max
            return after <= before + 2
        }
        XCTAssertTrue(settled, "descriptors before \(before), after \(after)")
    }

    private func openDescriptorCount() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }
}
