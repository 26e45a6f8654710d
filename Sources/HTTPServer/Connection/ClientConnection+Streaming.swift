import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Streaming responses (Server-Sent Events): the head without a length, then bytes queued from any thread.
extension ClientConnection {
    /// Sends a streaming response's head (no length: the body ends when the connection closes), then parks the
    /// connection without a worker; `starter` gets the stream once the head is out.
    func startStream(_ response: HTTPResponse, starter: @escaping @Sendable (EventStream) -> Void) {
        if stopIfClosing() { return }
        var head = response
        head.streamStarter = nil
        for (name, value) in context.configuration.defaultHeaders where !head.headers.contains(name) { head.headers.add(name, value) }
        pending = head.serialized(version: .http11, keepAlive: false, headOnly: true, date: loop.dateCache.current(), streaming: true)
        pendingOffset = 0
        closeAfterWrite = false
        stream = EventStream(
            send: { [weak self] bytes in
                guard let self else { return }
                loop.execute { self.streamSend(bytes) }
            },
            finish: { [weak self] in
                guard let self else { return }
                loop.execute { self.streamFinish() }
            })
        streamStarter = starter
        flushPending(waitedForWritable: false)
    }

    /// On the connection's loop: queue bytes of the stream and write what the socket takes.
    func streamSend(_ bytes: [UInt8]) {
        lock.lock()
        let current = phase, isClosing = closing
        lock.unlock()
        guard !isClosing, stream != nil, !streamFinishing else { return }
        switch current {
        case .streaming:
            pending = bytes
            pendingOffset = 0
            flushPending(waitedForWritable: false)
        case .writing:
            guard pending.count - pendingOffset + bytes.count <= Self.maxStreamBacklog else {
                close()
                return
            }
            pending.append(contentsOf: bytes)
        default:
            // The head is still being written by a worker; try again in a moment.
            loop.execute(after: .milliseconds(1)) { [self] in streamSend(bytes) }
        }
    }

    func streamFinish() {
        guard stream != nil, !streamFinishing else { return }
        streamFinishing = true
        lock.lock()
        let idle = phase == .streaming
        lock.unlock()
        if idle { lingerThenClose() }
    }
}

/// Chunked bodies (exports): the head, then pieces a producer writes on a stream thread, at the client's pace; the
/// connection serves its next request afterwards. While the body is produced the connection is `.producing`, owned by
/// its loop; bytes a client sends meanwhile wait in the early-input buffer.
extension ClientConnection {
    func startChunked(_ response: HTTPResponse, version: HTTPVersion, keepAlive: Bool,
                      producer: @escaping @Sendable (ChunkedBody) throws -> Void) {
        if stopIfClosing() { return }
        var head = response
        head.chunkedProducer = nil
        for (name, value) in context.configuration.defaultHeaders where !head.headers.contains(name) { head.headers.add(name, value) }
        // HTTP/1.0 has no chunked coding: the body then ends with the connection.
        let framed = version == .http11
        pending = head.serialized(version: version, keepAlive: keepAlive && framed, headOnly: true, date: loop.dateCache.current(),
                                  streaming: !framed, chunked: framed)
        pendingOffset = 0
        closeAfterWrite = !(keepAlive && framed)
        chunkedProducer = producer
        chunked = ChunkedBody(framed: framed,
            deliver: { [weak self] bytes, last in
                guard let self else { return }
                loop.execute { self.chunkedAppend(bytes, last: last) }
            },
            abort: { [weak self] in
                guard let self else { return }
                loop.execute { self.close() }
            })
        flushPending(waitedForWritable: false)
    }

    /// After a flush: the head is out (start the producer), or a piece is (let the producer go on).
    func chunkedFlushed() {
        lock.lock()
        if closing {
            finishDeferredClose()
            lock.unlock()
            chunked?.close()
            return
        }
        phase = .producing
        deadline = 0
        lock.unlock()
        guard let body = chunked else { return }
        if let producer = chunkedProducer {
            chunkedProducer = nil
            context.streamWorkers.submit {
                do {
                    try producer(body)
                    body.finish()
                } catch {
                    body.fail()
                }
            }
        } else {
            body.drained()
        }
    }

    /// On the connection's loop: a piece (or the last chunk) to send.
    func chunkedAppend(_ bytes: [UInt8], last: Bool) {
        lock.lock()
        let current = phase, isClosing = closing
        lock.unlock()
        guard !isClosing, chunked != nil else { return }
        if last { chunkedEnded = true }
        switch current {
        case .producing:
            pending = bytes
            pendingOffset = 0
            flushPending(waitedForWritable: false)
        case .writing:
            pending.append(contentsOf: bytes)
        default:
            break
        }
    }
}
