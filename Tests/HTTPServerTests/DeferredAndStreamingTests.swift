import Foundation
import XCTest
@testable import HTTPServer

/// Responses that outlive their handler: `DeferredResponse` (long polls) and `EventStream` (Server-Sent Events).
final class DeferredAndStreamingTests: ServerTestCase {
    func testDeferredResponseIsWrittenWhenCompletedAndTheConnectionStaysUsable() throws {
        let server = try startServer { $0.workerCount = 1 }
        let client = try server.client()
        try client.send("GET /deferred HTTP/1.1\r\nHost: h\r\nX-Request-ID: deferred-1\r\n\r\n")
        // The only worker is free meanwhile: another client is served before the deferred answer arrives.
        let other = try server.client()
        XCTAssertEqual(try other.get("/hello").bodyText, "hello")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.bodyText, "later")
        XCTAssertEqual(response["X-Request-ID"], "deferred-1", "the request id survives the hand-over")
        assertStandardHeaders(response)
        XCTAssertEqual(try client.get("/hello").bodyText, "hello", "keep-alive continues after a deferred response")
    }

    func testDeferredResponseCompletedBeforeAttachIsWrittenOnce() throws {
        let server = try startServer()
        let client = try server.client()
        let response = try client.get("/deferred/ready")
        XCTAssertEqual(response.bodyText, "ready")
        XCTAssertEqual(try client.get("/hello").bodyText, "hello", "no second response was written")
    }

    func testHeadOfADeferredResponseHasNoBody() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("HEAD /deferred HTTP/1.1\r\nHost: h\r\n\r\n")
        let head = try client.readResponse(hasBody: false)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head["Content-Length"], "5")
        XCTAssertEqual(try client.get("/hello").bodyText, "hello", "no body bytes were sent after the head")
    }

    func testFiniteStreamSendsItsChunksThenCloses() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("GET /stream/finite HTTP/1.1\r\nHost: h\r\n\r\n")
        let head = try client.readResponse(hasBody: false)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head["Content-Type"], "text/event-stream")
        XCTAssertEqual(head["Cache-Control"], "no-store")
        XCTAssertNil(head["Content-Length"], "a stream has no length: it ends with the connection")
        XCTAssertEqual(head["Connection"], "close")
        let (rest, end) = client.readToEnd()
        XCTAssertEqual(String(decoding: rest, as: UTF8.self), "data: one\n\ndata: two\n\n", "nothing is sent after finish")
        XCTAssertEqual(end, .eof)
    }

    func testOpenStreamEndsWhenTheClientGoesAway() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("GET /stream/open HTTP/1.1\r\nHost: h\r\n\r\n")
        _ = try client.readResponse(hasBody: false)
        try client.expectBytes("data: open\n\n")
        XCTAssertTrue(eventually { server.streams.started.count == 1 })
        let stream = server.streams.started[0]
        // Bytes sent from any thread reach the client while it is connected.
        DispatchQueue.global().async { stream.send(Array("data: later\n\n".utf8)) }
        try client.expectBytes("data: later\n\n")
        XCTAssertFalse(stream.isTerminated)
        client.close()
        XCTAssertTrue(eventually { stream.isTerminated }, "the stream learns that its client left")
        XCTAssertEqual(server.streams.terminated, 1, "termination handlers run once")
        stream.send(Array("data: into the void\n\n".utf8))  // ignored, no crash
        let ranLate = expectation(description: "a handler added after the end runs at once")
        stream.onTermination { ranLate.fulfill() }
        wait(for: [ranLate], timeout: 0.1)
        XCTAssertTrue(eventually { server.server.openConnections == 0 })
    }

    func testShutdownEndsOpenStreams() throws {
        let server = try startServer { $0.shutdownGracePeriod = .seconds(2) }
        let client = try server.client()
        try client.send("GET /stream/open HTTP/1.1\r\nHost: h\r\n\r\n")
        _ = try client.readResponse(hasBody: false)
        try client.expectBytes("data: open\n\n")
        let started = Date()
        server.server.shutdown()
        XCTAssertLessThan(Date().timeIntervalSince(started), 1.5, "a stream does not hold shutdown for the grace period")
        XCTAssertEqual(client.readToEnd().end, .eof)
        XCTAssertTrue(server.streams.started.first?.isTerminated ?? false)
    }
}
