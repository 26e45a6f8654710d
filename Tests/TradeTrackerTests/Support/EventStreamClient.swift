import JSON
import Foundation
import HTTPServer
#if canImport(Glibc)
import Glibc
#endif

/// A raw-socket Server-Sent-Events reader for end-to-end tests: sends one `GET` with `Accept: text/event-stream`,
/// reads the response head, then parses the body into events and comments. Every read is bounded (SO_RCVTIMEO
/// set from the caller's deadline), so a missing event fails a test instead of hanging it.
final class EventStreamClient {
    /// One dispatched event (a block that had at least one `data:` line).
    struct Event: Equatable, CustomStringConvertible {
        var id: String?
        var event: String?
        var data: String
        /// The block's lines as received, without the terminating blank line.
        var lines: [String]

        var description: String { "Event(id: \(id ?? "nil"), event: \(event ?? "nil"), data: \(data))" }

        /// `data` parsed as JSON.
        func json() throws -> JSONValue { try JSONParser.parse(Array(data.utf8)) }
    }

    /// What a block of the stream was.
    enum Item: Equatable {
        case event(Event)
        /// A `:` line; the text after the colon (one leading space removed).
        case comment(String)
        /// A block that only set `retry:`.
        case retry(Int)
    }

    enum Failure: Error, Equatable { case connectFailed(Int32), timedOut, closed, malformed(String) }

    let port: Int
    private(set) var status = 0
    private(set) var headers = HTTPHeaders()
    /// The body of a non-streaming answer (an error), read by its Content-Length.
    private(set) var body: [UInt8] = []
    /// The last `retry:` value seen.
    private(set) var retry: Int?
    /// Every comment seen so far, in order (also those skipped by `nextEvent`).
    private(set) var comments: [String] = []
    /// The last `id:` value seen (what a browser would send as Last-Event-ID).
    private(set) var lastEventID: String?

    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var sawEOF = false
    private var pendingLines: [String] = []

    /// Connects, sends `GET path` (with `Accept: text/event-stream` and optional `Last-Event-ID`), and reads the head.
    init(port: Int, path: String = "/v1/changes", lastEventID: String? = nil, headers extra: [(String, String)] = [],
         timeout: Duration = .seconds(5)) throws {
        self.port = port
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.connectFailed(errno) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            close()
            throw Failure.connectFailed(code)
        }
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        for (name, value) in extra { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try sendAll(Array(request.utf8))
        try readHead(deadline: ContinuousClock.now + timeout)
    }

    deinit { close() }

    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }

    /// The body as text (for error answers).
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The next event, skipping comments and retry-only blocks. Throws `.timedOut` or `.closed`.
    func nextEvent(timeout: Duration) throws -> Event {
        let deadline = ContinuousClock.now + timeout
        while true {
            if case .event(let event) = try nextItem(deadline: deadline) { return event }
        }
    }

    /// The next block of any kind. Throws `.timedOut` or `.closed`.
    func nextItem(timeout: Duration) throws -> Item {
        try nextItem(deadline: ContinuousClock.now + timeout)
    }

    /// Reads until the first `retry:` block, which the server sends once the stream is subscribed.
    func waitForRetry(timeout: Duration = .seconds(5)) throws {
        let deadline = ContinuousClock.now + timeout
        while retry == nil {
            if case .event(let event) = try nextItem(deadline: deadline) {
                throw Failure.malformed("an event before the retry block: \(event)")
            }
        }
    }

    /// True when no further event arrives within `window` (comments are allowed); false when one does.
    func isQuiet(for window: Duration) throws -> Bool {
        do {
            _ = try nextEvent(timeout: window)
            return false
        } catch Failure.timedOut {
            return true
        }
    }

    /// True when the server ends the stream within `timeout`; events arriving before the end are returned in `drained`.
    func waitForEOF(timeout: Duration, drained: inout [Item]) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                drained.append(try nextItem(deadline: deadline))
            } catch Failure.closed {
                return true
            } catch {
                return false
            }
        }
    }

    // MARK: parsing

    private func nextItem(deadline: ContinuousClock.Instant) throws -> Item {
        while true {
            // Lines of a block cut by a timeout stay in `pendingLines` for the next call.
            guard let line = try nextLine(deadline: deadline) else { throw Failure.closed }
            if !line.isEmpty {
                pendingLines.append(line)
                continue
            }
            let lines = pendingLines
            pendingLines = []
            if !lines.isEmpty, let item = dispatch(lines) { return item }
        }
    }

    /// Applies one block's fields as the SSE spec does; nil for a block with nothing to report.
    private func dispatch(_ lines: [String]) -> Item? {
        var id: String?, event: String?, data: [String] = [], retryValue: Int?, comment: String?
        for line in lines {
            if line.hasPrefix(":") {
                var text = line.dropFirst()
                if text.hasPrefix(" ") { text = text.dropFirst() }
                comments.append(String(text))
                comment = comment ?? String(text)
                continue
            }
            let name: Substring, value: Substring
            if let colon = line.firstIndex(of: ":") {
                name = line[..<colon]
                var rest = line[line.index(after: colon)...]
                if rest.hasPrefix(" ") { rest = rest.dropFirst() }
                value = rest
            } else {
                name = Substring(line)
                value = ""
            }
            switch name {
            case "id": id = String(value); lastEventID = String(value)
            case "event": event = String(value)
            case "data": data.append(String(value))
            case "retry": if let n = Int(value) { retryValue = n; retry = n }
            default: break
            }
        }
        if !data.isEmpty { return .event(Event(id: id, event: event, data: data.joined(separator: "\n"), lines: lines)) }
        if let retryValue { return .retry(retryValue) }
        if let comment { return .comment(comment) }
        return nil
    }

    /// One line without its terminator (LF, CRLF or CR); nil at end of stream.
    private func nextLine(deadline: ContinuousClock.Instant) throws -> String? {
        while true {
            if let end = buffer.firstIndex(where: { $0 == 10 || $0 == 13 }) {
                // A CR at the very end may be the first half of CRLF: wait for one more byte unless the stream ended.
                if buffer[end] == 13 && end == buffer.count - 1 && !sawEOF {
                    try fill(deadline: deadline)
                    continue
                }
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                var used = end + 1
                if buffer[end] == 13 && used < buffer.count && buffer[used] == 10 { used += 1 }
                buffer.removeFirst(used)
                return line
            }
            if sawEOF { return nil }
            try fill(deadline: deadline)
        }
    }

    // MARK: the head

    private func readHead(deadline: ContinuousClock.Instant) throws {
        let marker: [UInt8] = [13, 10, 13, 10]
        while true {
            if buffer.count >= 4, let end = (0...(buffer.count - 4)).first(where: { Array(buffer[$0..<$0 + 4]) == marker }) {
                let lines = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
                let parts = lines[0].split(separator: " ")
                guard parts.count >= 2, let code = Int(parts[1]) else { throw Failure.malformed(lines[0]) }
                status = code
                for line in lines.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers.add(String(line[..<colon]), line[line.index(after: colon)...].trimmingHTTPWhitespace())
                }
                buffer.removeFirst(end + 4)
                if let length = headers["Content-Length"].flatMap({ Int($0) }) {
                    while buffer.count < length {
                        if sawEOF { throw Failure.closed }
                        try fill(deadline: deadline)
                    }
                    body = Array(buffer[0..<length])
                    buffer.removeFirst(length)
                }
                return
            }
            if sawEOF { throw Failure.closed }
            try fill(deadline: deadline)
        }
    }

    // MARK: the socket

    private func sendAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure.closed }
            offset += n
        }
    }

    /// One read bounded by `deadline`; sets `sawEOF` on end of stream (or a reset).
    private func fill(deadline: ContinuousClock.Instant) throws {
        guard fd >= 0 else { throw Failure.closed }
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { throw Failure.timedOut }
        let (seconds, attoseconds) = remaining.components
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: max(1000, Int(attoseconds / 1_000_000_000_000)))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        let n = read(fd, &scratch, scratch.count)
        if n > 0 {
            buffer.append(contentsOf: scratch[0..<n])
            return
        }
        if n == 0 {
            sawEOF = true
            return
        }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR {
            if ContinuousClock.now >= deadline { throw Failure.timedOut }
            return
        }
        sawEOF = true
    }
}
