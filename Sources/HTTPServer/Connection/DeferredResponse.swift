import Foundation

/// A response completed later, from any thread, without holding a worker meanwhile (long polls, writes waiting
/// for their commit).
public final class DeferredResponse: @unchecked Sendable {
    // `completed`, `deliver`, `delivered` and `transforms` are guarded by `lock`; whichever of attach/complete
    // comes second delivers, once.
    private let lock = NSLock()
    private var completed: HTTPResponse?
    private var deliver: (@Sendable (HTTPResponse) -> Void)?
    private var delivered = false
    private var transforms: [@Sendable (HTTPResponse) -> HTTPResponse] = []

    public init() {}

    /// Completes with `response`; later calls are ignored. Returns whether this call completed it.
    @discardableResult
    public func complete(_ response: HTTPResponse) -> Bool {
        lock.lock()
        guard completed == nil && !delivered else {
            lock.unlock()
            return false
        }
        // Under the lock, so a transform added concurrently is either applied here or at once by `transform`.
        // Transforms are small (headers, a log line) and take no lock that could lead back here.
        let final = transforms.reduce(response) { $1($0) }
        transforms = []
        completed = final
        let target = deliver
        if target != nil { delivered = true }
        lock.unlock()
        target?(final)
        return true
    }

    /// Lets middleware see and amend the real response (headers, logging, metrics) when it arrives, before it is
    /// written; applied in the order added. Added after completion (but before delivery), it applies at once.
    public func transform(_ change: @escaping @Sendable (HTTPResponse) -> HTTPResponse) {
        lock.lock()
        if let response = completed, !delivered {
            completed = change(response)
            lock.unlock()
            return
        }
        transforms.append(change)
        lock.unlock()
    }

    /// Called by the connection: `handler` writes the response when it arrives (at once if it already has).
    func attach(_ handler: @escaping @Sendable (HTTPResponse) -> Void) {
        lock.lock()
        if let response = completed, !delivered {
            delivered = true
            lock.unlock()
            handler(response)
            return
        }
        deliver = handler
        lock.unlock()
    }
}

/// The write side of a streaming response (Server-Sent Events): send chunks from any thread until it ends.
public final class EventStream: @unchecked Sendable {
    // `terminationHandlers` and `terminated` are guarded by `lock`.
    private let lock = NSLock()
    private var terminationHandlers: [@Sendable () -> Void] = []
    private var terminated = false
    private let sendBytes: @Sendable ([UInt8]) -> Void
    private let finishStream: @Sendable () -> Void

    init(send: @escaping @Sendable ([UInt8]) -> Void, finish: @escaping @Sendable () -> Void) {
        self.sendBytes = send
        self.finishStream = finish
    }

    /// Queues bytes for the client; ignored once the stream has ended.
    public func send(_ bytes: [UInt8]) {
        guard !isTerminated else { return }
        sendBytes(bytes)
    }

    /// Ends the stream after what was sent is written, then closes the connection.
    public func finish() { finishStream() }

    public var isTerminated: Bool {
        lock.lock(); defer { lock.unlock() }
        return terminated
    }

    /// Runs `handler` once when the stream ends for any reason (client gone, finish, shutdown); at once if it has.
    public func onTermination(_ handler: @escaping @Sendable () -> Void) {
        lock.lock()
        if terminated {
            lock.unlock()
            handler()
            return
        }
        terminationHandlers.append(handler)
        lock.unlock()
    }

    func terminate() {
        lock.lock()
        guard !terminated else {
            lock.unlock()
            return
        }
        terminated = true
        let handlers = terminationHandlers
        terminationHandlers = []
        lock.unlock()
        for handler in handlers { handler() }
    }
}
