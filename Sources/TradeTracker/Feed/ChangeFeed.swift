import Foundation
import HTTPServer
import SQLite

/// Delivers the change log to waiting long polls and open Server-Sent-Event streams. All delivery runs on one
/// feed thread, in seq order, so a stream never sees a change twice or out of order; nothing here holds a
/// request worker.
final class ChangeFeed: @unchecked Sendable {
    /// A parked long poll.
    private final class Waiter {
        let since: Int64
        let filter: ChangeQuery
        let limit: Int
        let deferred: DeferredResponse
        init(since: Int64, filter: ChangeQuery, limit: Int, deferred: DeferredResponse) {
            self.since = since
            self.filter = filter
            self.limit = limit
            self.deferred = deferred
        }
    }

    /// An open event stream and the last seq it was sent.
    private final class Subscriber {
        let stream: EventStream
        let filter: ChangeQuery
        var cursor: Int64
        init(stream: EventStream, filter: ChangeQuery, cursor: Int64) {
            self.stream = stream
            self.filter = filter
            self.cursor = cursor
        }
    }

    static let heartbeatInterval: Duration = .seconds(15)

    private let database: Database
    private let signal: ChangeSignal
    private let logger: Logger
    private let thread = WorkerPool(threadCount: 1, name: "change-feed")
    private let timers = DispatchQueue(label: "change-feed-timers")
    private let heartbeat: any DispatchSourceTimer
    // `waiters`, `subscribers`, `stopped` and `deliveryScheduled` are guarded by `lock`; the objects in them are
    // only used on the feed thread.
    private let lock = NSLock()
    private var waiters: [ObjectIdentifier: Waiter] = [:]
    private var subscribers: [ObjectIdentifier: Subscriber] = [:]
    private var stopped = false
    private var deliveryScheduled = false

    init(database: Database, signal: ChangeSignal, logger: Logger, heartbeat interval: Duration = heartbeatInterval) {
        self.database = database
        self.signal = signal
        self.logger = logger
        heartbeat = DispatchSource.makeTimerSource(queue: timers)
        let nanos = Int(interval.nanoseconds)
        heartbeat.schedule(deadline: .now() + .nanoseconds(nanos), repeating: .nanoseconds(nanos))
        heartbeat.setEventHandler { [weak self] in self?.beat() }
        heartbeat.resume()
        signal.listen { [weak self] _ in self?.scheduleDelivery() }
    }

    var openStreams: Int {
        lock.lock(); defer { lock.unlock() }
        return subscribers.count
    }

    // MARK: registration

    /// Parks a long poll until a matching change after `since` commits, or `wait` passes (then empty).
    func park(since: Int64, filter: ChangeQuery, limit: Int, wait: Duration, deferred: DeferredResponse) {
        let waiter = Waiter(since: since, filter: filter, limit: limit, deferred: deferred)
        let id = ObjectIdentifier(waiter)
        lock.lock()
        if stopped {
            lock.unlock()
            deferred.complete(ChangeResponses.page([], lastSeq: since))
            return
        }
        waiters[id] = waiter
        lock.unlock()
        timers.asyncAfter(deadline: .now() + .nanoseconds(Int(wait.nanoseconds))) { [weak self] in
            // Answered on the feed thread from the database, so a change that committed but was not yet
            // delivered is returned rather than skipped by an empty page's last_seq.
            self?.thread.submit { [weak self] in self?.expire(id) }
        }
        // A change may have committed between the caller's read and now: look once more on the feed thread.
        scheduleDelivery()
    }

    /// Streams every matching change after `cursor` to `stream` until it ends.
    func subscribe(_ stream: EventStream, filter: ChangeQuery, after cursor: Int64) {
        let subscriber = Subscriber(stream: stream, filter: filter, cursor: cursor)
        let id = ObjectIdentifier(subscriber)
        lock.lock()
        if stopped {
            lock.unlock()
            stream.finish()
            return
        }
        subscribers[id] = subscriber
        lock.unlock()
        stream.onTermination { [weak self] in
            guard let self else { return }
            self.lock.lock()
            self.subscribers[id] = nil
            self.lock.unlock()
        }
        stream.send(Array("retry: 3000\n\n".utf8))
        scheduleDelivery()
    }

    // MARK: delivery (feed thread)

    private func expire(_ id: ObjectIdentifier) {
        lock.lock()
        let expired = waiters.removeValue(forKey: id)
        lock.unlock()
        guard let waiter = expired else { return }
        let tip = signal.seq
        // Unreadable now: answer empty at the poll's own position, so nothing can be skipped.
        guard case let (changes, _)? = read(after: waiter.since, upTo: tip, filter: waiter.filter, limit: waiter.limit) else {
            waiter.deferred.complete(ChangeResponses.page([], lastSeq: waiter.since))
            return
        }
        waiter.deferred.complete(ChangeResponses.page(changes, lastSeq: ChangeRecord.lastSeq(changes, limit: waiter.limit, tip: tip, since: waiter.since)))
    }

    private func scheduleDelivery() {
        lock.lock()
        let schedule = !deliveryScheduled && !stopped
        deliveryScheduled = true
        lock.unlock()
        if schedule { thread.submit { [weak self] in self?.deliver() } }
    }

    private func deliver() {
        lock.lock()
        deliveryScheduled = false
        let pendingWaiters = Array(waiters)
        let streams = Array(subscribers.values)
        lock.unlock()
        let tip = signal.seq
        var failed = false
        for (id, waiter) in pendingWaiters where waiter.since < tip {
            guard case let (changes, _)? = read(after: waiter.since, upTo: tip, filter: waiter.filter, limit: waiter.limit) else {
                failed = true
                continue
            }
            guard !changes.isEmpty else { continue }
            lock.lock()
            let stillWaiting = waiters.removeValue(forKey: id) != nil
            lock.unlock()
            // The same last_seq rule as an immediate answer.
            let lastSeq = ChangeRecord.lastSeq(changes, limit: waiter.limit, tip: tip, since: waiter.since)
            if stillWaiting { waiter.deferred.complete(ChangeResponses.page(changes, lastSeq: lastSeq)) }
        }
        for subscriber in streams where subscriber.cursor < tip && !subscriber.stream.isTerminated {
            // Drain in batches so a reconnect far behind the tip neither loads everything nor skips anything.
            var complete = false
            while case let (batch, more)? = read(after: subscriber.cursor, upTo: tip, filter: subscriber.filter, limit: 500) {
                if !batch.isEmpty {
                    var bytes: [UInt8] = []
                    for change in batch { bytes += ChangeResponses.event(change) }
                    subscriber.stream.send(bytes)
                    subscriber.cursor = batch.last!.seq
                }
                if !more { complete = true; break }
            }
            // Changes of other resources still move the cursor on, so they are not read again; after a failed read
            // the cursor stays, and the retry below picks up from it.
            if complete { subscriber.cursor = tip } else { failed = true }
        }
        if failed {
            // Recover without waiting for the next commit: look again in a second.
            timers.asyncAfter(deadline: .now() + .seconds(1)) { [weak self] in self?.scheduleDelivery() }
        }
    }

    /// A feed read; a database error is logged and answered with nil, and the caller retries later.
    private func read(after seq: Int64, upTo tip: Int64?, filter: ChangeQuery, limit: Int) -> (changes: [ChangeRecord], more: Bool)? {
        do {
            return try database.read { try ChangeRecord.read($0, after: seq, upTo: tip, filter: filter, limit: limit) }
        } catch {
            logger.error("change feed: reading the change log failed: \(error); retrying")
            return nil
        }
    }

    private func beat() {
        lock.lock()
        let streams = subscribers.values.map(\.stream)
        lock.unlock()
        let comment = Array(": heartbeat\n\n".utf8)
        for stream in streams { stream.send(comment) }
    }

    /// At shutdown: answers every long poll (empty) and ends every stream cleanly.
    func shutdown() {
        lock.lock()
        stopped = true
        let parked = Array(waiters.values)
        let streams = subscribers.values.map(\.stream)
        waiters = [:]
        lock.unlock()
        heartbeat.cancel()
        // Nothing was read for them, so their position stays where it was: no change can be skipped.
        for waiter in parked { waiter.deferred.complete(ChangeResponses.page([], lastSeq: waiter.since)) }
        for stream in streams { stream.finish() }
        thread.stop(timeout: .seconds(2))
    }
}
