import Foundation

/// The write side of a chunked body: a producer on a stream thread writes pieces; each is framed (size, data) and
/// handed to the connection, and `write` waits while more than `window` bytes are still unsent, so memory stays flat
/// however large the body and however slow the client.
public final class ChunkedBody: @unchecked Sendable {
    /// The connection went away: stop producing.
    public struct Closed: Error {}

    // `outstanding`, `closed` and `ended` are guarded by `condition`.
    private let condition = NSCondition()
    private var outstanding = 0
    private var closed = false
    private var ended = false
    let window: Int
    /// false for an HTTP/1.0 client: the body is sent as is and ends with the connection.
    let framed: Bool
    private let deliver: @Sendable ([UInt8], _ last: Bool) -> Void
    private let abort: @Sendable () -> Void

    init(window: Int = 256 * 1024, framed: Bool, deliver: @escaping @Sendable ([UInt8], Bool) -> Void,
         abort: @escaping @Sendable () -> Void) {
        self.window = window
        self.framed = framed
        self.deliver = deliver
        self.abort = abort
    }

    /// Sends `bytes` as one chunk (nothing for an empty piece); throws `Closed` when the client is gone.
    public func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        let piece = framed ? Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + [13, 10] : bytes
        condition.lock()
        while outstanding > window && !closed { condition.wait() }
        if closed || ended {
            condition.unlock()
            throw Closed()
        }
        outstanding += piece.count
        condition.unlock()
        deliver(piece, false)
    }

    /// Ends the body (the last, empty chunk); the connection can serve its next request afterwards.
    func finish() {
        condition.lock()
        let skip = closed || ended
        ended = true
        condition.unlock()
        if !skip { deliver(framed ? Array("0\r\n\r\n".utf8) : [], true) }
    }

    /// Gives up: the connection closes without the last chunk, so the client sees a cut body.
    func fail() {
        condition.lock()
        ended = true
        condition.unlock()
        abort()
    }

    /// The connection wrote everything handed to it.
    func drained() {
        condition.lock()
        outstanding = 0
        condition.broadcast()
        condition.unlock()
    }

    /// The connection is gone: a waiting or later `write` throws.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
