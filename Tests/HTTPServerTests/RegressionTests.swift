import JSON
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import HTTPServer

/// Regression tests for bugs found in review: a stack overflow on many small chunks, a refusal without the common
/// headers, and a forced close that let a worker write into a reused descriptor.
final class RegressionTests: ServerTestCase {
    // MARK: 1. Chunked bodies recurse once per chunk and overflow the stack (remote crash)

    private static let childVariable = "HTTPSERVER_KNOWN_BUG_CHILD"

    /// Runs in a child process only (it crashes the process if the bug comes back): a request followed in the same
    /// write by a chunked request of 600 one-byte chunks (3.6 KB). The worker that answers the first request parses
    /// the second one recursively on its 1 MiB stack.
    func testChildProcessPayload_manySmallChunks() throws {
        guard ProcessInfo.processInfo.environment[Self.childVariable] == "1" else {
            throw XCTSkip("payload of testManySmallChunksDoNotCrashTheServer; runs only in its child process")
        }
        let server = try startServer()
        let client = try server.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: h\r\n\r\n"
                        + "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + String(repeating: "1\r\na\r\n", count: 600) + "0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().bodyText, "hello")
        XCTAssertEqual(try client.readResponse().body.count, 600)
    }

    func testManySmallChunksDoNotCrashTheServer() throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["HTTPServerTests.RegressionTests/testChildProcessPayload_manySmallChunks"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = "1"
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        let exited = eventually(timeout: 30) { !child.isRunning }
        if !exited { child.terminate() }
        XCTAssertTrue(exited, "the child did not finish")
        XCTAssertEqual(child.terminationReason, .exit, "the server process died from signal \(child.terminationStatus)")
        XCTAssertEqual(child.terminationStatus, 0, "the child's test failed")
    }

    // MARK: 2. The 503 for a connection past the limit lacks Date and X-Request-ID

    func testConnectionLimitRefusalCarriesDateAndRequestID() throws {
        let server = try startServer { $0.maxConnections = 1 }
        let first = try server.client()
        XCTAssertEqual(try first.get("/hello").status, 200)
        let second = try server.client()
        let refused = try second.readResponse()
        XCTAssertEqual(refused.status, 503)
        assertStandardHeaders(refused)
        let id = try JSONParser.parse(refused.body)["request_id"]?.stringValue
        XCTAssertEqual(id, refused["X-Request-ID"], "the problem's request_id matches the header")
        XCTAssertNotEqual(id, "")
    }

    // MARK: 3. A forced close during shutdown lets the worker write into a closed (and reused) descriptor

    func testForcedCloseDoesNotWriteIntoAReusedDescriptor() throws {
        let server = try startServer { $0.shutdownGracePeriod = .milliseconds(200) }
        let client = try server.client()
        server.slowGate.close()
        try client.send("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
        XCTAssertTrue(server.slowGate.waitForArrival())
        let finished = DispatchSemaphore(value: 0)
        let http = server.server
        Thread.detachNewThread {
            http.shutdown()
            finished.signal()
        }
        // The grace period passes while the handler still runs: the server force-closes the connection.
        assertClosedByServer(client)
        // Take the lowest free descriptors, as any file or socket opened by the process at this moment would.
        var pairs: [[Int32]] = []
        for _ in 0..<16 {
            var fds: [Int32] = [-1, -1]
            XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
            pairs.append(fds)
        }
        defer { for pair in pairs { Glibc.close(pair[0]); Glibc.close(pair[1]) } }
        server.slowGate.open()
        XCTAssertEqual(finished.wait(timeout: .now() + 10), .success)
        var leaked: [String] = []
        for pair in pairs {
            for fd in pair {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if n > 0 { leaked.append(String(decoding: buffer[0..<min(n, 40)], as: UTF8.self)) }
            }
        }
        XCTAssertEqual(leaked, [], "the response for a closed connection was written into an unrelated descriptor")
    }
}
