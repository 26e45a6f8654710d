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
        pending = head.serialized(version: .http11, keepAlive: false, headOnly: true, date: context.dateCache.current(), streaming: true)
        pendingOffset = 0
        closeAfterWrite = false
        stream = EventStream(
            send: { [weak self] bytes in
                guard let self else { return }
                queue.async { self.streamSend(bytes) }
            },
            finish: { [weak self] in
                guard let self else { return }
                queue.async { self.streamFinish() }
            })
        streamStarter = starter
        flushPending(fromWriteSource: false)
    }

    /// On the connection's queue: queue bytes of the stream and write what the socket takes.
    func streamSend(_ bytes: [UInt8]) {
        lock.lock()
        let current = phase, isClosing = closing
        lock.unlock()
        guard !isClosing, stream != nil, !streamFinishing else { return }
        switch current {
        case .streaming:
            pending = bytes
            pendingOffset = 0
            flushPending(fromWriteSource: false)
        case .writing:
            guard pending.count - pendingOffset + bytes.count <= Self.maxStreamBacklog else {
                close()
                return
            }
            pending.append(contentsOf: bytes)
        default:
            // The head is still being written by a worker; try again in a moment.
            queue.asyncAfter(deadline: .now() + .milliseconds(1)) { [self] in streamSend(bytes) }
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
