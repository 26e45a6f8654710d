import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest

/// A response as a raw-socket client read it off the wire.
struct WireResponse {
    var version: String
    var status: Int
    var reason: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The first value of `name`, compared case-insensitively.
    subscript(_ name: String) -> String? { values(name).first }

    func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }
}

/// How reading ended when the caller waited for the server to close.
enum StreamEnd: Equatable {
    case eof, reset, timedOut
}

struct ClientError: Error, CustomStringConvertible {
    let description: String
}

/// A blocking raw-socket HTTP/1.1 client for 127.0.0.1; every read is bounded by SO_RCVTIMEO.
final class TestClient {
    let fd: Int32
    private(set) var buffer: [UInt8] = []
    private var isClosed = false

    /// Connects to 127.0.0.1:`port`; `receiveBufferSize` is set before connecting so the window stays small.
    init(port: Int, receiveBufferSize: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(description: "socket failed: errno \(errno)") }
        if let size = receiveBufferSize {
            var value = size
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
        }
        var send = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send, socklen_t(MemoryLayout<timeval>.size))
        let result = Self.connect(fd, port: port)
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw ClientError(description: "connect failed: errno \(code)")
        }
    }

    deinit { close() }

    /// connect() to 127.0.0.1:`port`; 0 or -1 with errno set.
    static func connect(_ fd: Int32, port: Int) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// The errno of a connect attempt to `port` (0 when it connected).
    static func connectErrno(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        return connect(fd, port: port) == 0 ? 0 : errno
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ClientError(description: "send failed: errno \(errno)")
            }
            offset += n
        }
    }

    /// Reads once into the buffer, waiting at most until `deadline`; nil on timeout, 0 on EOF.
    private func fill(until deadline: Date) -> Int? {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { return nil }
        var timeout = timeval(tv_sec: Int(remaining), tv_usec: Int((remaining - Double(Int(remaining))) * 1_000_000) + 1)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return n
            }
            if n == 0 { return 0 }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return deadline.timeIntervalSinceNow > 0 ? fill(until: deadline) : nil
            default: return -1
            }
        }
    }

    /// Reads one full response (status line, headers, Content-Length body). `hasBody: false` for HEAD.
    func readResponse(timeout: TimeInterval = 5, hasBody: Bool = true) throws -> WireResponse {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            if let response = try parseBuffered(hasBody: hasBody) { return response }
            switch fill(until: deadline) {
            case nil: throw ClientError(description: "timed out waiting for a response; have \(bufferText)")
            case 0?: throw ClientError(description: "closed by server before a full response; have \(bufferText)")
            case let n? where n < 0: throw ClientError(description: "connection reset; have \(bufferText)")
            default: continue
            }
        }
    }

    /// Reads until the server closes: the bytes that came after what was consumed, and how the stream ended.
    func readToEnd(timeout: TimeInterval = 5) -> (extra: [UInt8], end: StreamEnd) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            switch fill(until: deadline) {
            case nil: return (takeBuffer(), .timedOut)
            case 0?: return (takeBuffer(), .eof)
            case let n? where n < 0: return (takeBuffer(), .reset)
            default: continue
            }
        }
    }

    /// The next CRLF-terminated line, without its CRLF.
    func readLine(timeout: TimeInterval = 5) throws -> String {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            if let end = buffer.firstRange(of: [13, 10]) {
                let line = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                buffer.removeFirst(end.upperBound)
                return line
            }
            guard let n = fill(until: deadline), n > 0 else { throw ClientError(description: "no full line; have \(bufferText)") }
        }
    }

    /// Exactly the next `count` bytes.
    func readBytes(_ count: Int, timeout: TimeInterval = 5) throws -> [UInt8] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while buffer.count < count {
            guard let n = fill(until: deadline), n > 0 else { throw ClientError(description: "wanted \(count) bytes; have \(buffer.count)") }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer.prefix(count))
    }

    /// Waits for exactly the bytes of `text` (e.g. an interim response) and consumes them.
    func expectBytes(_ text: String, timeout: TimeInterval = 5) throws {
        let wanted = Array(text.utf8)
        let deadline = Date(timeIntervalSinceNow: timeout)
        while buffer.count < wanted.count {
            guard let n = fill(until: deadline), n > 0 else { break }
        }
        guard buffer.starts(with: wanted) else {
            throw ClientError(description: "expected \(text.debugDescription), have \(bufferText)")
        }
        buffer.removeFirst(wanted.count)
    }

    private func takeBuffer() -> [UInt8] {
        defer { buffer = [] }
        return buffer
    }

    private var bufferText: String { String(decoding: buffer.prefix(300), as: UTF8.self).debugDescription }

    private func parseBuffered(hasBody: Bool) throws -> WireResponse? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headEnd = buffer.firstRange(of: separator) else { return nil }
        let head = String(decoding: buffer[..<headEnd.lowerBound], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw ClientError(description: "bad status line \(lines[0].debugDescription)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw ClientError(description: "bad header line \(line)") }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var response = WireResponse(version: String(statusParts[0]), status: status,
                                    reason: statusParts.count > 2 ? String(statusParts[2]) : "", headers: headers, body: [])
        let bodyStart = headEnd.upperBound
        let length = hasBody && status >= 200 && status != 204 && status != 304 ? Int(response["Content-Length"] ?? "0") ?? 0 : 0
        guard buffer.count - bodyStart >= length else { return nil }
        response.body = Array(buffer[bodyStart..<bodyStart + length])
        buffer.removeFirst(bodyStart + length)
        return response
    }
}

extension TestClient {
    /// Sends a GET with a Host header and reads the answer.
    func get(_ path: String, headers: String = "") throws -> WireResponse {
        try send("GET \(path) HTTP/1.1\r\nHost: test\r\n\(headers)\r\n")
        return try readResponse()
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; the final value.
func eventually(timeout: TimeInterval = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while !condition() {
        if Date() > deadline { return false }
        usleep(20_000)
    }
    return true
}

/// Asserts that the server closed the connection cleanly (FIN) without sending anything more.
func assertClosedByServer(_ client: TestClient, timeout: TimeInterval = 5, file: StaticString = #filePath, line: UInt = #line) {
    let (extra, end) = client.readToEnd(timeout: timeout)
    XCTAssertEqual(end, .eof, "the server should close the connection", file: file, line: line)
    XCTAssertEqual(String(decoding: extra, as: UTF8.self), "", "no bytes expected before the close", file: file, line: line)
}
