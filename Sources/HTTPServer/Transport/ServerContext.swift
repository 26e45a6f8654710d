import Foundation
import Synchronization

/// What every connection of one server shares.
final class ServerContext: Sendable {
    let configuration: ServerConfiguration
    let responder: Responder
    let workers: WorkerPool
    /// Threads that produce chunked bodies (exports): a slow client holds one of these, never a request worker.
    let streamWorkers: WorkerPool
    let registry = ConnectionRegistry()
    let dateCache = DateHeaderCache()
    let logger: Logger
    /// The threads that wait for socket events; each connection belongs to one.
    let eventLoops: [EventLoop]
    private let shuttingDown = Atomic<Bool>(false)

    init(configuration: ServerConfiguration, responder: Responder, logger: Logger) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        self.workers = WorkerPool(threadCount: configuration.workerCount)
        self.streamWorkers = WorkerPool(threadCount: configuration.streamWorkerCount, name: "stream")
        self.eventLoops = (0..<max(1, configuration.eventLoopCount)).map { EventLoop(name: "event-loop-\($0)", logger: logger) }
    }

    var isShuttingDown: Bool { shuttingDown.load(ordering: .acquiring) }

    func beginShutdown() { shuttingDown.store(true, ordering: .releasing) }
}

/// The open connections, for the connection limit, timeouts and shutdown.
final class ConnectionRegistry: @unchecked Sendable {
    // `connections` is guarded by `lock`.
    private let lock = NSLock()
    private var connections: [UInt64: ClientConnection] = [:]
    private var nextID: UInt64 = 0
    private var probes = 0

    var count: Int {
        lock.lock(); defer { lock.unlock() }
        return connections.count
    }

    /// Connections that count against the connection limit (probe-only ones do not).
    var regularCount: Int {
        lock.lock(); defer { lock.unlock() }
        return connections.count - probes
    }

    var probeCount: Int {
        lock.lock(); defer { lock.unlock() }
        return probes
    }

    func makeID() -> UInt64 {
        lock.lock(); defer { lock.unlock() }
        nextID += 1
        return nextID
    }

    func add(_ connection: ClientConnection) {
        lock.lock(); defer { lock.unlock() }
        connections[connection.id] = connection
        if connection.probesOnly { probes += 1 }
    }

    func remove(_ connection: ClientConnection) {
        lock.lock(); defer { lock.unlock() }
        if connections.removeValue(forKey: connection.id) != nil, connection.probesOnly { probes -= 1 }
    }

    func snapshot() -> [ClientConnection] {
        lock.lock(); defer { lock.unlock() }
        return Array(connections.values)
    }
}
