import Foundation
import XCTest
@testable import HTTPServer

/// Chunked bodies produced while they are sent: framing, keep-alive after them, flow control with a slow client,
/// a producer that fails, HEAD and HTTP/1.0.
final class ChunkedBodyTests: ServerTestCase {
    /// Reads a chunked body after its head: the data and whether it ended with the last chunk.
    private func readChunked(_ client: TestClient, timeout: TimeInterval = 10) throws -> (data: [UInt8], complete: Bool) {
        var data: [UInt8] = []
        while true {
            guard let sizeLine = try? client.readLine(timeout: timeout) else { return (data, false) }
            guard let size = Int(sizeLine, radix: 16) else { throw ClientError(description: "bad chunk size \(sizeLine.debugDescription)") }
            if size == 0 {
                XCTAssertEqual(try client.readLine(timeout: timeout), "", "no trailers, then the end")
                return (data, true)
            }
            guard let piece = try? client.readBytes(size + 2, timeout: timeout) else { return (data, false) }
            XCTAssertEqual(Array(piece.suffix(2)), [13, 10])
            data += piece.prefix(size)
        }
    }

    func testABodyIsSentChunkedAndTheConnectionServesTheNextRequest() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("GET /chunks?n=3&size=5 HTTP/1.1\r\nHost: h\r\n\r\n")
        let head = try client.readResponse(hasBody: false)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head["Transfer-Encoding"], "chunked")
        XCTAssertNil(head["Content-Length"])
        XCTAssertNil(head["Connection"], "kept alive")
        let (data, complete) = try readChunked(client)
        XCTAssertTrue(complete)
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "aaaaabbbbbccccc")
        XCTAssertEqual(try client.get("/hello").bodyText, "hello")
    }

    func testAPipelinedRequestWaitsForTheBodyToEnd() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("GET /chunks?n=20&size=1000 HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\n")
        _ = try client.readResponse(hasBody: false)
        let (data, complete) = try readChunked(client)
        XCTAssertTrue(complete)
        XCTAssertEqual(data.count, 20_000)
        XCTAssertEqual(try client.readResponse().bodyText, "hello", "the second answer comes after the whole body, in order")
    }

    func testASlowClientGetsEverythingWhileTheProducerWaits() throws {
        let server = try startServer()
        let client = try server.client(receiveBufferSize: 4096)
        try client.send("GET /chunks?n=400&size=10000 HTTP/1.1\r\nHost: h\r\n\r\n")
        _ = try client.readResponse(hasBody: false)
        usleep(300_000)   // the producer fills the window and the socket, then waits
        let (data, complete) = try readChunked(client, timeout: 20)
        XCTAssertTrue(complete)
        XCTAssertEqual(data.count, 4_000_000)
        XCTAssertEqual(try client.get("/hello").bodyText, "hello")
    }

    func testAProducerThatFailsCutsTheBodyAndClosesTheConnection() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("GET /chunks?n=5&size=4&fail=2 HTTP/1.1\r\nHost: h\r\n\r\n")
        let head = try client.readResponse(hasBody: false)
        XCTAssertEqual(head.status, 200, "the status was sent before the failure")
        let (data, complete) = try readChunked(client)
        XCTAssertFalse(complete, "no last chunk: the client knows the body is cut")
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "aaaabbbb")
    }

    func testHeadSendsTheHeadOnlyAndHTTP10GetsABodyThatEndsWithTheConnection() throws {
        let server = try startServer()
        let client = try server.client()
        try client.send("HEAD /chunks HTTP/1.1\r\nHost: h\r\n\r\n")
        let head = try client.readResponse(hasBody: false)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(try client.get("/hello").bodyText, "hello", "no body bytes followed the head")

        let old = try server.client()
        try old.send("GET /chunks?n=2&size=3 HTTP/1.0\r\n\r\n")
        let response = try old.readResponse(hasBody: false)
        XCTAssertNil(response["Transfer-Encoding"])
        XCTAssertEqual(response["Connection"], "close")
        let (rest, end) = old.readToEnd()
        XCTAssertEqual(String(decoding: rest, as: UTF8.self), "aaabbb")
        XCTAssertEqual(end, .eof)
    }

    func testAClientThatLeavesStopsTheProducer() throws {
        let server = try startServer()
        let client = try server.client(receiveBufferSize: 4096)
        try client.send("GET /chunks?n=100000&size=10000 HTTP/1.1\r\nHost: h\r\n\r\n")
        _ = try client.readResponse(hasBody: false)
        client.close()
        XCTAssertTrue(eventually(timeout: 5) { server.server.openConnections == 0 }, "the connection and its producer are gone")
        XCTAssertEqual(try server.client().get("/hello").bodyText, "hello")
    }
}
