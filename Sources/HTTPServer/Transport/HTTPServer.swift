import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 server on non-blocking POSIX sockets and Dispatch sources, with handlers on a worker pool.
public final class HTTPServer: @unchecked Sendable {
    // `listenFD`, `acceptSource`, `sweeper` and `boundPort` are set in `start` and cleared in `shutdown`,
    // both called from the owner's thread; `lock` guards them against concurrent readers.
    private let lock = NSLock()
    private let context: ServerContext
    private let acceptQueue = DispatchQueue(label: "http-accept")
    private let sweepQueue = DispatchQueue(label: "http-timeouts")
    private var listenFD: Int32 = -1
    private var acceptSource: (any DispatchSourceRead)?
    private var sweeper: (any DispatchSourceTimer)?
    private var boundPort = 0
    private var stopped = false

    public var configuration: ServerConfiguration { context.configuration }
    public var logger: Logger { context.logger }

    public init(configuration: ServerConfiguration, responder: Responder, logger: Logger = .standard) {
        self.context = ServerContext(configuration: configuration, responder: responder, logger: logger)
    }

    /// The port the server listens on (useful with port 0).
    public var port: Int {
        lock.lock(); defer { lock.unlock() }
        return boundPort
    }

    public var isShuttingDown: Bool { context.isShuttingDown }

    /// Connections currently open (for metrics and tests).
    public var openConnections: Int { context.registry.count }

    /// Binds, listens and starts accepting. Throws `SystemError` when the address cannot be used.
    public func start() throws {
        signal(SIGPIPE, SIG_IGN)
        let fd = try Listener.bind(host: configuration.host, port: configuration.port, backlog: configuration.backlog, logger: logger)
        let port: Int
        do {
            port = try Listener.localPort(fd)
            // After the bind: an address in use leaves no loop thread behind.
            for loop in context.eventLoops { try loop.start() }
        } catch {
            for loop in context.eventLoops { loop.stop(timeout: .seconds(1)) }
            SystemCalls.close(fd, logger: logger)
            throw error
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
        source.setEventHandler { [unowned self] in self.acceptPending(source) }
        source.setCancelHandler { [logger] in SystemCalls.close(fd, logger: logger) }
        let timer = DispatchSource.makeTimerSource(queue: sweepQueue)
        let tick = min(max(configuration.smallestTimeout.nanoseconds / 4, 10_000_000), 250_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(Int(tick)), repeating: .nanoseconds(Int(tick)))
        timer.setEventHandler { [context] in
            let now = monotonicNow()
            for connection in context.registry.snapshot() { connection.checkTimeout(now: now) }
        }
        lock.lock()
        listenFD = fd
        boundPort = port
        acceptSource = source
        sweeper = timer
        lock.unlock()
        source.resume()
        timer.resume()
    }

    private func acceptPending(_ source: any DispatchSourceRead) {
        while true {
            var peer = SocketAddress()
            let fd = peer.fill { accept(Int32(source.handle), $0, $1) }
            if fd < 0 {
                let code = errno
                switch code {
                case EAGAIN, EWOULDBLOCK:
                    return
                case EINTR, ECONNABORTED, EPROTO:
                    continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: keep the listener alive, pause briefly, try again.
                    logger.error("accept failed: \(String(cString: strerror(code))); pausing accepts for 100 ms")
                    source.suspend()
                    acceptQueue.asyncAfter(deadline: .now() + .milliseconds(100)) { [self] in
                        lock.lock()
                        let current = acceptSource
                        lock.unlock()
                        current?.resume()
                    }
                    return
                default:
                    logger.error("accept failed: \(String(cString: strerror(code)))")
                    return
                }
            }
            do {
                try SystemCalls.setNonBlockingCloseOnExec(fd)
                try SystemCalls.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1, "TCP_NODELAY")
            } catch {
                // A blocking socket would stall an event loop; drop this client rather than serve it wrongly.
                logger.error("cannot prepare an accepted socket: \(error); closing it")
                SystemCalls.close(fd, logger: logger)
                continue
            }
            var probesOnly = false
            if context.isShuttingDown || context.registry.regularCount >= configuration.maxConnections {
                // Past the limit, a few connections may still ask the probes, so an orchestrator does not restart a
                // healthy server that is merely flooded.
                guard !context.isShuttingDown, !configuration.probePaths.isEmpty,
                      context.registry.probeCount < configuration.probeConnections else {
                    Listener.refuse(fd, shuttingDown: context.isShuttingDown, context: context)
                    continue
                }
                probesOnly = true
            }
            let connection = ClientConnection(fd: fd, id: context.registry.makeID(), remoteAddress: peer.text, context: context,
                                              probesOnly: probesOnly)
            context.registry.add(connection)
            connection.start()
        }
    }

    /// Graceful shutdown: stop accepting, let in-flight requests finish (bounded by the grace period),
    /// close idle keep-alive connections, then force-close what is left. Returns when done.
    public func shutdown() {
        lock.lock()
        if stopped {
            lock.unlock()
            return
        }
        stopped = true
        let source = acceptSource
        acceptSource = nil
        lock.unlock()
        context.beginShutdown()
        acceptQueue.sync { source?.cancel() }
        let deadline = monotonicNow() + configuration.shutdownGracePeriod.nanoseconds
        while context.registry.count > 0 && monotonicNow() < deadline {
            for connection in context.registry.snapshot() { connection.closeIfIdle() }
            usleep(20_000)
        }
        for connection in context.registry.snapshot() { connection.close() }
        let closeDeadline = monotonicNow() + 1_000_000_000
        while context.registry.count > 0 && monotonicNow() < closeDeadline { usleep(5_000) }
        lock.lock()
        let timer = sweeper
        sweeper = nil
        lock.unlock()
        timer?.cancel()
        context.workers.stop(timeout: .seconds(2))
        context.streamWorkers.stop(timeout: .seconds(2))
        for loop in context.eventLoops { loop.stop(timeout: .seconds(2)) }
        logger.flush()
    }
}
