import JSON
import Foundation
import HTTPServer
#if canImport(Glibc)
import Glibc
#endif

/// A response as the test client read it off the socket.
struct TestResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as JSON; throws (failing the calling test) when it is not.
    func json() throws -> JSONValue {
        try JSONParser.parse(body)
    }
}

enum TestClientError: Error { case connectFailed(Int32), timedOut, closed, malformed(String) }

/// A minimal blocking HTTP/1.1 client over a real socket, for end-to-end tests (keeps one connection open).
final class TestClient {
    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(port: Int) { self.port = port }

    deinit { disconnect() }

    func connect() throws {
        disconnect()
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw TestClientError.connectFailed(errno) }
        buffer = []
    }

    func disconnect() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    func sendRaw(_ bytes: [UInt8]) throws {
        if fd < 0 { try connect() }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestClientError.closed }
            offset += n
        }
    }

    /// Sends one request and reads its response on the kept-alive connection (reconnecting when needed).
    func request(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) throws -> TestResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        if fd < 0 { try connect() }
        do {
            try sendRaw(Array(head.utf8) + (body ?? []))
        } catch {
            try connect()
            try sendRaw(Array(head.utf8) + (body ?? []))
        }
        return try readResponse(headOnly: method == "HEAD")
    }

    /// JSON convenience: sends `json` with Content-Type application/json.
    func request(_ method: String, _ path: String, json: String, headers: [(String, String)] = []) throws -> TestResponse {
        try request(method, path, headers: [("Content-Type", "application/json")] + headers, body: Array(json.utf8))
    }

    /// Reads one response; the server closing before a full response is an error.
    func readResponse(headOnly: Bool = false) throws -> TestResponse {
        while true {
            if let (response, used) = try parse(headOnly: headOnly) {
                buffer.removeFirst(used)
                if response.headers["Connection"]?.lowercased() == "close" { disconnect() }
                return response
            }
            try fill()
        }
    }

    /// True when the server closed the connection (read returns 0) within the socket timeout.
    func waitForClose() -> Bool {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &scratch, scratch.count)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    private func fill() throws {
        var scratch = [UInt8](repeating: 0, count: 65536)
        let n = read(fd, &scratch, scratch.count)
        if n == 0 { throw TestClientError.closed }
        if n < 0 { throw errno == EAGAIN ? TestClientError.timedOut : TestClientError.closed }
        buffer.append(contentsOf: scratch[0..<n])
    }

    private func parse(headOnly: Bool) throws -> (TestResponse, Int)? {
        let marker: [UInt8] = [13, 10, 13, 10]
        guard buffer.count >= 4, let end = (0...(buffer.count - 4)).first(where: { Array(buffer[$0..<$0 + 4]) == marker }) else {
            return nil
        }
        let lines = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TestClientError.malformed(lines[0]) }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingHTTPWhitespace())
        }
        let bodyStart = end + 4
        if status == 100 {
            return (TestResponse(status: 100, headers: headers, body: []), bodyStart)
        }
        if !headOnly, status != 204, status != 304, headers["Transfer-Encoding"]?.lowercased() == "chunked" {
            guard let (body, used) = try Self.dechunk(buffer[bodyStart...]) else { return nil }
            return (TestResponse(status: status, headers: headers, body: body), bodyStart + used)
        }
        let length = headOnly || status == 204 || status == 304 ? 0 : Int(headers["Content-Length"] ?? "0") ?? 0
        guard buffer.count >= bodyStart + length else { return nil }
        return (TestResponse(status: status, headers: headers, body: Array(buffer[bodyStart..<bodyStart + length])), bodyStart + length)
    }

    /// A whole chunked body (RFC 9112 §7.1) from `bytes`: the decoded body and the bytes it took, or nil while it is
    /// still arriving. Chunk extensions are skipped; a trailer section must be empty.
    static func dechunk(_ bytes: ArraySlice<UInt8>) throws -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var index = bytes.startIndex
        func line() -> Range<Int>? {
            var i = index
            while i + 1 < bytes.endIndex {
                if bytes[i] == 13 && bytes[i + 1] == 10 { return index..<i }
                i += 1
            }
            return nil
        }
        while true {
            guard let sizeLine = line() else { return nil }
            let text = String(decoding: bytes[sizeLine], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(text.trimmingCharacters(in: .whitespaces), radix: 16) else { throw TestClientError.malformed("chunk size \(text)") }
            index = sizeLine.upperBound + 2
            if size == 0 {
                guard let trailer = line() else { return nil }
                guard trailer.isEmpty else { throw TestClientError.malformed("a trailer field") }
                return (body, trailer.upperBound + 2 - bytes.startIndex)
            }
            guard bytes.endIndex - index >= size + 2 else { return nil }
            body.append(contentsOf: bytes[index..<index + size])
            guard bytes[index + size] == 13, bytes[index + size + 1] == 10 else { throw TestClientError.malformed("chunk not followed by CRLF") }
            index += size + 2
        }
    }
}
