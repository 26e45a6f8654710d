import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One client connection: its buffer, keep-alive state, timeouts and write backlog.
///
/// Ownership: the request state (`parser`, `pending`, …) belongs to whoever drives the connection at the
/// moment — its event loop while the phase is `.reading` (or it waits for the socket to drain), or the one
/// worker (or completer of a deferred response) that runs its request. The hand-over points (phase `.processing`
/// before submitting to a worker; phase `.reading` as the driver's last act) are inside `lock`, which also guards
/// the control fields that the timeout sweeper and shutdown read from other threads. That is what makes the
/// `@unchecked Sendable` safe.
///
/// Reading stays on while a request is processed: turning it off and on for every request would cost an
/// `epoll_ctl` each time. Bytes that arrive meanwhile (a pipelined request) go to `earlyInput`, which the driver
/// takes before it gives the connection back; past `maxEarlyInput` reading pauses, so a client cannot make us buffer
/// without bound.
final class ClientConnection: @unchecked Sendable {
    enum Phase { case reading, processing, writing, streaming, producing, lingering, closed }
    enum TimeoutKind { case header, body, idle, write, linger }

    let fd: Int32
    let id: UInt64
    let remoteAddress: String
    /// Runs the connection's socket events and the tasks other threads hand it, one at a time.
    let loop: EventLoop
    let context: ServerContext
    /// Accepted past the connection limit: it may ask a probe path once, anything else gets 503; then it closes.
    let probesOnly: Bool

    // Owned by the current driver (see above).
    var parser: RequestParser
    var pending: [UInt8] = []
    var pendingOffset = 0
    var closeAfterWrite = false
    /// Set while the connection carries a streaming response.
    var stream: EventStream?
    var streamStarter: (@Sendable (EventStream) -> Void)?
    var streamFinishing = false
    /// A chunked body whose head is being written; started once the head is out.
    var chunkedProducer: (@Sendable (ChunkedBody) throws -> Void)?
    /// The chunked body being sent, and whether its last chunk has been handed over.
    var chunked: ChunkedBody?
    var chunkedEnded = false
    /// A client that does not read its stream gets this much queued before it is cut off.
    static let maxStreamBacklog = 1 << 20
    /// Pipelined bytes held while a request is processed before reading pauses.
    static let maxEarlyInput = 256 * 1024

    // Guarded by `lock`.
    let lock = NSLock()
    var phase = Phase.reading
    var timeoutKind = TimeoutKind.header
    var deadline: UInt64 = 0
    var readSuspended = false
    /// Bytes read while the parser was not ours (a request in flight), in order.
    var earlyInput: [UInt8] = []
    var writeArmed = false
    var closing = false
    /// `close()` came while a worker ran the request: the socket is shut down, and the worker finishes the close.
    var closeDeferred = false
    var watcher: IOWatcher?
    /// A request is being processed by `drive` on the loop's thread (touched only there).
    private var processingInline = false

    init(fd: Int32, id: UInt64, remoteAddress: String, context: ServerContext, probesOnly: Bool = false) {
        self.probesOnly = probesOnly
        self.fd = fd
        self.id = id
        self.remoteAddress = remoteAddress
        self.context = context
        self.loop = context.eventLoops[Int(id % UInt64(context.eventLoops.count))]
        self.parser = RequestParser(limits: context.configuration.limits)
    }

    /// Starts reading; the header timeout counts from now (accept).
    func start() {
        // The handlers hold the connection unowned: the watcher lives inside it, and its cancel handler (which holds
        // the connection until the descriptor is closed) drops it.
        let watcher = IOWatcher(fd: fd, loop: loop,
                                onReadable: { [unowned self] in self.onReadable() },
                                onWritable: { [unowned self] in self.flushPending(waitedForWritable: true) },
                                onCancel: { [self] in self.watcherCancelled() })
        lock.lock()
        self.watcher = watcher
        arm(.header, probesOnly ? min(context.configuration.probeTimeout, context.configuration.headerTimeout) : context.configuration.headerTimeout)
        watcher.setReading(true)
        lock.unlock()
    }

    /// Must hold `lock`.
    func arm(_ kind: TimeoutKind, _ duration: Duration) {
        timeoutKind = kind
        deadline = monotonicNow() + duration.nanoseconds
    }

    // MARK: reading

    func onReadable() {
        lock.lock()
        let current = phase
        lock.unlock()
        // Lingering and streaming connections only watch for the peer's close; what it sends is dropped.
        let discard = current == .lingering || current == .streaming
        var received = 0
        var failed = false
        withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 1) { buffer in
            switch SystemCalls.retrying("read", { read(fd, buffer.baseAddress, buffer.count) }) {
            case .success(let n):
                received = n
                guard n > 0, !discard else { return }
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                if current == .reading {
                    // Only this queue moves the phase away from .reading, so the parser stays ours.
                    parser.append(bytes)
                } else {
                    received = holdEarly(bytes) ? n : -2
                }
            case .failure(let error):
                failed = error.errno != EAGAIN && error.errno != EWOULDBLOCK
                received = -1
            }
        }
        if failed || received == 0 {
            // 0 is end of stream: a client that vanishes costs nothing but its own connection.
            close()
            return
        }
        if received == -2 {
            // The request's owner gave the connection back while we read: the bytes went to the parser after all.
            if parser.phase == .body { lock.lock(); arm(.body, context.configuration.bodyTimeout); lock.unlock() }
            drive()
            return
        }
        guard received > 0, !discard, current == .reading else { return }
        if parser.phase == .body {
            lock.lock()
            arm(.body, context.configuration.bodyTimeout)
            lock.unlock()
        }
        drive()
    }

    /// Bytes that arrived while a request was in flight: kept for the driver, in order. False when the connection
    /// came back to `.reading` meanwhile, in which case they were appended to the parser here (the queue owns it).
    private func holdEarly(_ bytes: UnsafeRawBufferPointer) -> Bool {
        lock.lock()
        if phase == .reading {
            lock.unlock()
            parser.append(bytes)
            return false
        }
        earlyInput.append(contentsOf: bytes)
        if earlyInput.count > Self.maxEarlyInput && !readSuspended && !closing {
            watcher?.setReading(false)
            readSuspended = true
        }
        lock.unlock()
        return true
    }

    /// Parses what is buffered and acts on it. Runs on whoever owns the connection.
    func drive() {
        while true {
            if stopIfClosing() { return }
            switch parser.next() {
            case .needMore:
                lock.lock()
                if closing {
                    finishDeferredClose()
                    lock.unlock()
                    return
                }
                if !earlyInput.isEmpty {
                    // Pipelined bytes that came while the parser was ours elsewhere: parse them before giving it back.
                    let early = earlyInput
                    earlyInput = []
                    lock.unlock()
                    early.withUnsafeBytes { parser.append($0) }
                    continue
                }
                let parserPhase = parser.phase
                phase = .reading
                switch parserPhase {
                case .idle: break
                case .head: if timeoutKind != .header { arm(.header, context.configuration.headerTimeout) }
                case .body: if timeoutKind != .body { arm(.body, context.configuration.bodyTimeout) }
                }
                if readSuspended && !closing {
                    readSuspended = false
                    watcher?.setReading(true)
                }
                lock.unlock()
                return
            case .head(let head):
                if head.expectsContinue && !sendInterimContinue() {
                    close()
                    return
                }
            case .request(let request):
                guard enterProcessing() else { return }
                if probesOnly && !((request.method == "GET" || request.method == "HEAD") && context.configuration.probePaths.contains(request.path)) {
                    let refusal = context.responder.standaloneResponse(
                        for: .unavailable("the server has too many open connections; retry shortly", retryAfter: 1))
                    write(refusal, version: .http11, keepAlive: false, headOnly: request.method == "HEAD")
                    return
                }
                if context.configuration.isOffloaded(request.path) {
                    context.workers.submit { [self] in self.process(request) }
                } else if loop.isCurrent && !processingInline {
                    // At once, as nginx does: read, answer, write, with no hand-over in between.
                    processingInline = true
                    process(request)
                    processingInline = false
                } else {
                    // A task of the loop, after the events at hand: from another thread, or for the next pipelined
                    // request, which a response written at once drives from inside `process` (no recursion).
                    loop.execute { [self] in self.process(request) }
                }
                return
            case .error(let error):
                guard enterProcessing() else { return }
                write(context.responder.standaloneResponse(for: error), version: .http11, keepAlive: false, headOnly: false)
                return
            }
        }
    }

    /// Hands the connection to request processing; false when it was closed meanwhile.
    func enterProcessing() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if closing {
            finishDeferredClose()
            return false
        }
        phase = .processing
        deadline = 0
        return true
    }

    func sendInterimContinue() -> Bool {
        let line = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
        // 25 bytes on a socket with an empty send buffer; a partial write here means the peer is gone or hostile.
        let sent = line.withUnsafeBytes { SystemCalls.send(fd, $0) }
        if case .success(let n) = sent, n == line.count { return true }
        return false
    }

    // MARK: processing (on a worker)

    func process(_ request: consuming HTTPRequest) {
        // The request is handed on, not shared, so setting its fields copies nothing.
        request.remoteAddress = remoteAddress
        let headOnly = request.method == "HEAD"
        let version = request.version
        let wantsKeepAlive = request.wantsKeepAlive
        let response = context.responder.respond(to: request)
        if let deferred = response.deferred {
            // The worker is free now; whoever completes the response owns the connection until it is written.
            let requestID = response.headers["X-Request-ID"]
            deferred.attach { [self] completed in
                var completed = completed
                if let requestID { completed.headers.set("X-Request-ID", requestID) }
                let keepAlive = wantsKeepAlive && !completed.closesConnection && !context.isShuttingDown
                write(completed, version: version, keepAlive: keepAlive, headOnly: headOnly)
            }
            return
        }
        if let starter = response.streamStarter, !headOnly {
            startStream(response, starter: starter)
            return
        }
        if let producer = response.chunkedProducer, !headOnly {
            let keepAlive = wantsKeepAlive && !response.closesConnection && !context.isShuttingDown && !probesOnly
            startChunked(response, version: version, keepAlive: keepAlive, producer: producer)
            return
        }
        let keepAlive = wantsKeepAlive && !response.closesConnection && !context.isShuttingDown && !probesOnly
        write(response, version: version, keepAlive: keepAlive, headOnly: headOnly)
    }

    // MARK: writing

    /// Serialises and sends a response; falls back to a write source only when the socket is full.
    func write(_ response: HTTPResponse, version: HTTPVersion, keepAlive: Bool, headOnly: Bool) {
        if stopIfClosing() { return }
        var response = response
        for (name, value) in context.configuration.defaultHeaders where !response.headers.contains(name) {
            response.headers.add(name, value)
        }
        // A HEAD of a body that would be produced in chunks: the same framing fields as the GET, so no Content-Length
        // (RFC 9110 §9.3.2); HTTP/1.0 would get a body ended by the close, which has no field at all.
        let producedLater = headOnly && response.chunkedProducer != nil
        pending = response.serialized(version: version, keepAlive: keepAlive, headOnly: headOnly,
                                      date: loop.dateCache.current(),
                                      streaming: producedLater && version == .http10, chunked: producedLater && version == .http11)
        pendingOffset = 0
        closeAfterWrite = !keepAlive
        flushPending(waitedForWritable: false)
    }

    func flushPending(waitedForWritable: Bool) {
        while pendingOffset < pending.count {
            let result = pending.withUnsafeBytes { raw in
                SystemCalls.send(fd, UnsafeRawBufferPointer(rebasing: raw[pendingOffset...]))
            }
            switch result {
            case .success(0):
                waitForWritable()
                return
            case .success(let n):
                pendingOffset += n
            case .failure:
                close()
                return
            }
        }
        pending = []
        pendingOffset = 0
        if waitedForWritable {
            lock.lock()
            if writeArmed && !closing {
                watcher?.setWriting(false)
                writeArmed = false
            }
            lock.unlock()
        }
        responseFinished()
    }

    func waitForWritable() {
        lock.lock()
        defer { lock.unlock() }
        guard !closing else {
            finishDeferredClose()
            return
        }
        phase = .writing
        arm(.write, context.configuration.writeTimeout)
        if !writeArmed {
            writeArmed = true
            watcher?.setWriting(true)
        }
    }

    func responseFinished() {
        if chunkedProducer != nil || (chunked != nil && !chunkedEnded) {
            chunkedFlushed()
            return
        }
        chunked = nil
        chunkedEnded = false
        if let stream, !streamFinishing {
            let starter = streamStarter
            streamStarter = nil
            lock.lock()
            if closing {
                finishDeferredClose()
                lock.unlock()
                return
            }
            phase = .streaming
            deadline = 0
            if readSuspended {
                readSuspended = false
                watcher?.setReading(true)
            }
            lock.unlock()
            starter?(stream)
            return
        }
        if closeAfterWrite || context.isShuttingDown || streamFinishing {
            lingerThenClose()
            return
        }
        lock.lock()
        arm(.idle, context.configuration.idleTimeout)
        lock.unlock()
        drive()
    }

    /// Half-closes and reads until the peer closes (bounded), so unread request bytes do not turn our
    /// close into a reset that destroys the response before the client reads it.
    func lingerThenClose() {
        lock.lock()
        defer { lock.unlock() }
        guard !closing else {
            finishDeferredClose()
            return
        }
        shutdown(fd, Int32(SHUT_WR))
        phase = .lingering
        arm(.linger, .seconds(2))
        if readSuspended {
            readSuspended = false
            watcher?.setReading(true)
        }
    }
}
