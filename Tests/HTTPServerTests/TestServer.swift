import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
import JSON
@testable import HTTPServer

/// The tests' stand-in for an application's renderer: a small problem+json body carrying what the server handed
/// over (status, reason, request id, path), so tests can see that each failure reaches the renderer intact.
struct TestProblemRenderer: ErrorRenderer {
    func response(for error: any Error, request: HTTPRequest?, requestID: String) -> HTTPResponse {
        let failure = error as? HTTPFailure
        let status = failure?.status ?? 500
        let code = failure?.reason.rawValue ?? "internal_error"
        var json = JSONWriter()
        json.beginObject()
        json.member("type", "/problems/" + code.replacingOccurrences(of: "_", with: "-"))
        json.member("code", code)
        json.member("status", status)
        json.member("instance", request?.path ?? "")
        json.member("request_id", requestID)
        json.endObject()
        var response = HTTPResponse(status: status, headers: failure?.headers ?? HTTPHeaders(), body: json.bytes)
        response.headers.set("Content-Type", "application/problem+json")
        response.closesConnection = failure?.closesConnection ?? false
        return response
    }
}

/// A gate handlers can wait at; open by default. NSCondition guards `isOpen`, which makes it Sendable.
final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = true
    private var arrivals = 0

    func close() { condition.lock(); isOpen = false; condition.unlock() }

    func open() { condition.lock(); isOpen = true; condition.broadcast(); condition.unlock() }

    /// Records an arrival and waits (at most `timeout`) for the gate to be open.
    func pass(timeout: TimeInterval = 5) {
        condition.lock()
        arrivals += 1
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while !isOpen && condition.wait(until: deadline) {}
        condition.unlock()
    }

    /// Waits until at least one handler arrived.
    func waitForArrival(timeout: TimeInterval = 5) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while arrivals == 0 { if !condition.wait(until: deadline) { return arrivals > 0 } }
        return true
    }
}

struct SecretFailure: Error, CustomStringConvertible {
    var description: String { "database password is hunter2 at /var/lib/secret.db" }
}

/// Loggers in tests write to /dev/null so the output stays readable.
let quietLogger = Logger(minimumLevel: .error, fd: open("/dev/null", O_WRONLY))

/// The streams the `/stream/open` handler started, for tests that watch how they end.
final class StreamProbe: @unchecked Sendable {
    // `streams` and `terminations` are guarded by `lock`.
    private let lock = NSLock()
    private var streams: [EventStream] = []
    private var terminations = 0

    func add(_ stream: EventStream) {
        stream.onTermination { [self] in lock.lock(); terminations += 1; lock.unlock() }
        lock.lock(); streams.append(stream); lock.unlock()
    }

    var started: [EventStream] { lock.lock(); defer { lock.unlock() }; return streams }
    var terminated: Int { lock.lock(); defer { lock.unlock() }; return terminations }
}

/// The handlers the server tests talk to.
func makeTestRouter(slowGate: Gate, streams: StreamProbe = StreamProbe()) -> Router {
    var router = Router()
    // Completed later from another thread, without a worker waiting.
    router.add("GET", "/deferred") { _ in
        let deferred = DeferredResponse()
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { deferred.complete(.text("later")) }
        return .deferred(deferred)
    }
    // Completed before the connection attaches to it.
    router.add("GET", "/deferred/ready") { _ in
        let deferred = DeferredResponse()
        deferred.complete(.text("ready"))
        deferred.complete(.text("ignored: a deferred response completes once"))
        return .deferred(deferred)
    }
    // A chunked body of `n` pieces of `size` bytes; `fail=k` throws after k pieces.
    router.add("GET", "/chunks") { request in
        let query = request.query ?? ""
        func number(_ name: String, _ fallback: Int) -> Int {
            query.split(separator: "&").compactMap { part -> Int? in
                let pair = part.split(separator: "=")
                return pair.count == 2 && pair[0] == Substring(name) ? Int(pair[1]) : nil
            }.first ?? fallback
        }
        let (count, size, failAt) = (number("n", 3), number("size", 5), number("fail", -1))
        return .chunked(contentType: "text/plain") { body in
            for i in 0..<count {
                if i == failAt { throw SecretFailure() }
                try body.write(Array(repeating: UInt8(ascii: "a") + UInt8(i % 26), count: size))
            }
        }
    }
    router.add("GET", "/stream/finite") { _ in
        .stream(contentType: "text/event-stream") { stream in
            stream.send(Array("data: one\n\n".utf8))
            stream.send(Array("data: two\n\n".utf8))
            stream.finish()
            stream.send(Array("data: after finish\n\n".utf8))
        }
    }
    router.add("GET", "/stream/open") { _ in
        .stream(contentType: "text/event-stream") { stream in
            streams.add(stream)
            stream.send(Array("data: open\n\n".utf8))
        }
    }
    router.add("GET", "/hello") { _ in .text("hello") }
    router.add("POST", "/echo") { request in
        var response = HTTPResponse(status: 200, body: request.body)
        response.headers.add("Content-Type", "application/octet-stream")
        let trailers = request.trailers.map { "\($0.name)=\($0.value)" }.joined(separator: ";")
        response.headers.add("X-Trailers", trailers.isEmpty ? "none" : trailers)
        return response
    }
    router.add("GET", "/slow") { _ in
        slowGate.pass()
        usleep(500_000)
        return .text("slow")
    }
    router.add("GET", "/items/{id}") { request in .text(request.pathParameters["id"] ?? "?") }
    router.add("GET", "/boom") { _ in throw SecretFailure() }
    router.add("GET", "/big") { _ in HTTPResponse(status: 200, body: [UInt8](repeating: 0x61, count: 8 * 1024 * 1024)) }
    return router
}

/// A real server on 127.0.0.1, port 0, with the test handlers.
final class TestServer {
    let server: HTTPServer
    let slowGate = Gate()
    let streams = StreamProbe()
    var port: Int { server.port }

    init(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.workerCount = 2
        configure(&configuration)
        let responder = Responder(router: makeTestRouter(slowGate: slowGate, streams: streams), renderer: TestProblemRenderer())
        server = HTTPServer(configuration: configuration, responder: responder, logger: quietLogger)
        try server.start()
    }

    func client(receiveBufferSize: Int32? = nil) throws -> TestClient {
        try TestClient(port: port, receiveBufferSize: receiveBufferSize)
    }
}

/// Starts servers on demand and shuts every one down in tearDown.
class ServerTestCase: XCTestCase {
    private var servers: [TestServer] = []

    func startServer(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> TestServer {
        let server = try TestServer(configure)
        servers.append(server)
        return server
    }

    override func tearDown() {
        for server in servers {
            server.slowGate.open()
            server.server.shutdown()
        }
        servers = []
        super.tearDown()
    }
}

/// Asserts the headers every response must carry.
func assertStandardHeaders(_ response: WireResponse, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertNotNil(response["Date"], "Date missing", file: file, line: line)
    XCTAssertEqual(response["X-Content-Type-Options"], "nosniff", file: file, line: line)
    let id = response["X-Request-ID"] ?? ""
    XCTAssertTrue(RequestID.isAcceptable(id), "X-Request-ID \(id.debugDescription) missing or malformed", file: file, line: line)
}
