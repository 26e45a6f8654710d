import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One client connection: its buffer, keep-alive state, timeouts and write backlog.
///
/// Ownership: the request state (`parser`, `pending`, …) belongs to whoever drives the connection at the
/// moment — the connection's serial queue while the read or write source is live, or the one worker
/// thread that runs its request while the read source is suspended. The hand-over points (suspend before
/// submitting to a worker, resume as the worker's last act) are inside `lock`, which also guards the
/// control fields that the timeout sweeper and shutdown read from other threads. That is what makes the
/// `@unchecked Sendable` safe.
final class Connection: @unchecked Sendable {
    enum Phase { case reading, processing, writing, streaming, lingering, closed }
    enum TimeoutKind { case header, body, idle, write, linger }

    let fd: Int32
    let id: UInt64
    let remoteAddress: String
    let queue: DispatchQueue
    private let context: ServerContext

    // Owned by the current driver (see above).
    private var parser: RequestParser
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    private var closeAfterWrite = false
    private var servedRequests = 0
    /// Set while the connection carries a streaming response.
    private var stream: EventStream?
    private var streamStarter: (@Sendable (EventStream) -> Void)?
    private var streamFinishing = false
    /// A client that does not read its stream gets this much queued before it is cut off.
    private static let maxStreamBacklog = 1 << 20

    // Guarded by `lock`.
    private let lock = NSLock()
    private var phase = Phase.reading
    private var timeoutKind = TimeoutKind.header
    private var deadline: UInt64 = 0
    private var readSuspended = false
    private var writeSuspended = true
    private var closing = false
    /// `close()` came while a worker ran the request: the socket is shut down, and the worker finishes the close.
    private var closeDeferred = false
    private var sourcesAlive = 0
    private var readSource: (any DispatchSourceRead)?
    private var writeSource: (any DispatchSourceWrite)?

    init(fd: Int32, id: UInt64, remoteAddress: String, context: ServerContext) {
        self.fd = fd
        self.id = id
        self.remoteAddress = remoteAddress
        self.context = context
        self.queue = DispatchQueue(label: "connection-\(id)", target: context.eventLoops[Int(id % UInt64(context.eventLoops.count))])
        self.parser = RequestParser(limits: context.configuration.limits)
    }

    /// Starts reading; the header timeout counts from now (accept).
    func start() {
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [unowned self] in self.onReadable() }
        source.setCancelHandler { [self] in self.sourceCancelled() }
        lock.lock()
        readSource = source
        sourcesAlive = 1
        arm(.header, context.configuration.headerTimeout)
        lock.unlock()
        source.resume()
    }

    /// Must hold `lock`.
    private func arm(_ kind: TimeoutKind, _ duration: Duration) {
        timeoutKind = kind
        deadline = monotonicNow() + duration.nanoseconds
    }

    // MARK: reading

    private func onReadable() {
        lock.lock()
        // Lingering and streaming connections only watch for the peer's close; what it sends is dropped.
        let lingering = phase == .lingering || phase == .streaming
        lock.unlock()
        var received = 0
        var failed = false
        withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 1) { buffer in
            switch SystemCalls.retrying("read", { read(fd, buffer.baseAddress, buffer.count) }) {
            case .success(let n):
                received = n
                if n > 0 && !lingering { parser.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) }
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
        guard received > 0, !lingering else { return }
        if parser.phase == .body {
            lock.lock()
            arm(.body, context.configuration.bodyTimeout)
            lock.unlock()
        }
        drive()
    }

    /// Parses what is buffered and acts on it. Runs on whoever owns the connection.
    private func drive() {
        while true {
            if stopIfClosing() { return }
            switch parser.next() {
            case .needMore:
                let parserPhase = parser.phase
                lock.lock()
                if closing {
                    finishDeferredClose()
                    lock.unlock()
                    return
                }
                phase = .reading
                switch parserPhase {
                case .idle: break
                case .head: if timeoutKind != .header { arm(.header, context.configuration.headerTimeout) }
                case .body: if timeoutKind != .body { arm(.body, context.configuration.bodyTimeout) }
                }
                if readSuspended && !closing {
                    readSuspended = false
                    readSource?.resume()
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
                context.workers.submit { [self] in self.process(request) }
                return
            case .error(let error):
                guard enterProcessing() else { return }
                write(Self.problem(error), version: .http11, keepAlive: false, headOnly: false)
                return
            }
        }
    }

    /// The answer to a request that never reached the router (framing errors, timeouts).
    private static func problem(_ error: HTTPError) -> HTTPResponse {
        let requestID = RequestID.generate()
        var response = error.problemResponse(instance: "", requestID: requestID)
        response.headers.set("X-Request-ID", requestID)
        return response
    }

    /// Hands the connection to request processing; false when it was closed meanwhile.
    private func enterProcessing() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if closing {
            finishDeferredClose()
            return false
        }
        phase = .processing
        deadline = 0
        if !readSuspended {
            readSource?.suspend()
            readSuspended = true
        }
        return true
    }

    private func sendInterimContinue() -> Bool {
        let line = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
        // 25 bytes on a socket with an empty send buffer; a partial write here means the peer is gone or hostile.
        let sent = line.withUnsafeBytes { SystemCalls.send(fd, $0) }
        if case .success(let n) = sent, n == line.count { return true }
        return false
    }

    // MARK: processing (on a worker)

    private func process(_ request: HTTPRequest) {
        var received = request
        received.remoteAddress = remoteAddress
        let request = received
        let response = context.responder.respond(to: request)
        let headOnly = request.method == "HEAD"
        if let deferred = response.deferred {
            // The worker is free now; whoever completes the response owns the connection until it is written.
            let requestID = response.headers["X-Request-ID"]
            deferred.attach { [self] completed in
                var completed = completed
                if let requestID { completed.headers.set("X-Request-ID", requestID) }
                let keepAlive = request.wantsKeepAlive && !completed.closesConnection && !context.isShuttingDown
                write(completed, version: request.version, keepAlive: keepAlive, headOnly: headOnly)
            }
            return
        }
        if let starter = response.streamStarter, !headOnly {
            startStream(response, starter: starter)
            return
        }
        let keepAlive = request.wantsKeepAlive && !response.closesConnection && !context.isShuttingDown
        write(response, version: request.version, keepAlive: keepAlive, headOnly: headOnly)
    }

    // MARK: streaming

    /// Sends a streaming response's head (no length: the body ends when the connection closes), then parks the
    /// connection without a worker; `starter` gets the stream once the head is out.
    private func startStream(_ response: HTTPResponse, starter: @escaping @Sendable (EventStream) -> Void) {
        if stopIfClosing() { return }
        var head = response
        head.streamStarter = nil
        for (name, value) in context.defaultHeaders where !head.headers.contains(name) { head.headers.add(name, value) }
        pending = head.serialized(version: .http11, keepAlive: false, headOnly: true, date: context.dateCache.current(), streaming: true)
        pendingOffset = 0
        closeAfterWrite = false
        servedRequests += 1
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
    private func streamSend(_ bytes: [UInt8]) {
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

    private func streamFinish() {
        guard stream != nil, !streamFinishing else { return }
        streamFinishing = true
        lock.lock()
        let idle = phase == .streaming
        lock.unlock()
        if idle { lingerThenClose() }
    }

    // MARK: writing

    /// Serialises and sends a response; falls back to a write source only when the socket is full.
    func write(_ response: HTTPResponse, version: HTTPVersion, keepAlive: Bool, headOnly: Bool) {
        if stopIfClosing() { return }
        var response = response
        for (name, value) in context.defaultHeaders where !response.headers.contains(name) {
            response.headers.add(name, value)
        }
        pending = response.serialized(version: version, keepAlive: keepAlive, headOnly: headOnly,
                                      date: context.dateCache.current())
        pendingOffset = 0
        closeAfterWrite = !keepAlive
        servedRequests += 1
        flushPending(fromWriteSource: false)
    }

    private func flushPending(fromWriteSource: Bool) {
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
        if fromWriteSource {
            lock.lock()
            if !writeSuspended && !closing {
                writeSource?.suspend()
                writeSuspended = true
            }
            lock.unlock()
        }
        responseFinished()
    }

    private func waitForWritable() {
        lock.lock()
        defer { lock.unlock() }
        guard !closing else {
            finishDeferredClose()
            return
        }
        phase = .writing
        arm(.write, context.configuration.writeTimeout)
        if writeSource == nil {
            let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { [unowned self] in self.flushPending(fromWriteSource: true) }
            source.setCancelHandler { [self] in self.sourceCancelled() }
            writeSource = source
            sourcesAlive += 1
        }
        if writeSuspended {
            writeSuspended = false
            writeSource?.resume()
        }
    }

    private func responseFinished() {
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
                readSource?.resume()
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
    private func lingerThenClose() {
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
            readSource?.resume()
        }
    }

    // MARK: timeouts and closing

    /// Called by the sweeper from another thread; schedules the check on the connection's queue when due.
    func checkTimeout(now: UInt64) {
        lock.lock()
        let due = deadline != 0 && now >= deadline && phase != .processing && !closing
        lock.unlock()
        if due { queue.async { [self] in self.handleTimeout() } }
    }

    private func handleTimeout() {
        lock.lock()
        guard deadline != 0, monotonicNow() >= deadline, !closing, phase != .processing else {
            lock.unlock()
            return
        }
        let kind = timeoutKind
        let answer408 = kind == .header && phase == .reading
        lock.unlock()
        if answer408 {
            guard enterProcessing() else { return }
            let timeout = HTTPError(status: 408, code: "request_timeout", title: "Request timeout",
                                    detail: "the request head did not arrive in time", closesConnection: true)
            write(Self.problem(timeout), version: .http11, keepAlive: false, headOnly: false)
        } else {
            close()
        }
    }

    /// During shutdown: closes the connection if it waits between requests.
    func closeIfIdle() {
        queue.async { [self] in
            lock.lock()
            let current = phase, isClosing = closing
            lock.unlock()
            guard !isClosing else { return }
            if current == .streaming || (current == .reading && parser.phase == .idle) { close() }
        }
    }

    /// Closes at once; the descriptor is closed when the last source's cancel handler runs. While a worker runs
    /// the request, the descriptor is the worker's: the socket is only shut down (the peer sees the close) and the
    /// worker cancels the sources when it next looks, so no write can reach a reused descriptor number.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        if closing {
            if phase == .processing { finishDeferredClose() }
            return
        }
        closing = true
        deadline = 0
        if phase == .processing {
            closeDeferred = true
            shutdown(fd, Int32(SHUT_RDWR))
            return
        }
        phase = .closed
        cancelSources()
    }

    /// For the worker: true when the connection was closed meanwhile (and then finishes that close).
    private func stopIfClosing() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard closing else { return false }
        finishDeferredClose()
        return true
    }

    /// Must hold `lock`.
    private func finishDeferredClose() {
        guard closeDeferred else { return }
        closeDeferred = false
        phase = .closed
        cancelSources()
    }

    /// Must hold `lock`.
    private func cancelSources() {
        if let source = readSource {
            source.cancel()
            if readSuspended { readSuspended = false; source.resume() }
        }
        if let source = writeSource {
            source.cancel()
            if writeSuspended { writeSuspended = false; source.resume() }
        }
    }

    private func sourceCancelled() {
        lock.lock()
        sourcesAlive -= 1
        let last = sourcesAlive == 0
        if last {
            readSource = nil
            writeSource = nil
        }
        lock.unlock()
        if last {
            Glibc.close(fd)
            context.registry.remove(self)
            stream?.terminate()
        }
    }
}
