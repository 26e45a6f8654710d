import CEpoll
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One thread waiting on its own epoll set: it runs the socket events of the connections given to it, and the tasks
/// other threads hand it. A connection belongs to one loop, so its events and tasks never run concurrently.
///
/// Interest is level-triggered and changes only when a connection pauses reading or waits for a full socket, so a
/// request costs no `epoll_ctl`; one `epoll_wait` returns the events of many connections.
final class EventLoop: @unchecked Sendable {
    private let name: String
    private let logger: Logger
    // Set by `start`, before the thread runs and before any other thread is given the loop.
    private var epollFD: Int32 = -1
    private var wakeFD: Int32 = -1
    private var started = false
    // Set by the loop's thread before `start` returns.
    private var thread = pthread_t()
    private let running = DispatchSemaphore(value: 0)
    // `tasks`, `wakePending` and `stopping` are guarded by `lock`.
    /// The `Date:` line for responses of this loop's connections: one per loop, so the loops do not contend for
    /// one lock (and one buffer's reference count) with every response.
    let dateCache = DateHeaderCache()
    private let lock = NSLock()
    private var tasks: [@Sendable () -> Void] = []
    private var wakePending = false
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)

    init(name: String, logger: Logger) {
        self.name = name
        self.logger = logger
    }

    /// Makes the epoll set and starts the thread; called once, before any connection is given to the loop.
    func start() throws {
        let epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemError(call: "epoll_create1", errno: errno) }
        let wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wakeFD >= 0 else {
            let code = errno
            Glibc.close(epollFD)
            throw SystemError(call: "eventfd", errno: code)
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = 0   // no watcher: the wake-up descriptor
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0 else {
            let code = errno
            Glibc.close(wakeFD)
            Glibc.close(epollFD)
            throw SystemError(call: "epoll_ctl", errno: code)
        }
        self.epollFD = epollFD
        self.wakeFD = wakeFD
        let thread = Thread { [self] in
            // Set from inside: only then does Foundation pass the name to the kernel (perf, top -H, /proc/PID/task).
            Thread.current.name = name
            self.thread = pthread_self()
            running.signal()
            run()
            exited.signal()
        }
        thread.stackSize = 1 << 20
        started = true
        thread.start()
        running.wait()
    }

    /// True on the loop's own thread.
    var isCurrent: Bool { pthread_equal(pthread_self(), thread) != 0 }

    /// Runs `task` on the loop's thread, after the events it is handling now. From the loop's own thread that costs
    /// no wake-up: the loop runs its tasks after every round of events.
    func execute(_ task: @escaping @Sendable () -> Void) {
        lock.lock()
        tasks.append(task)
        if isCurrent {
            lock.unlock()
            return
        }
        let wake = !wakePending
        wakePending = true
        lock.unlock()
        if wake { signalWake() }
    }

    /// Runs `task` on the loop's thread once `delay` has passed.
    func execute(after delay: Duration, _ task: @escaping @Sendable () -> Void) {
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(delay.nanoseconds))) { [self] in execute(task) }
    }

    /// Lets the tasks already handed over run, then ends the thread (bounded by `timeout`).
    func stop(timeout: Duration) {
        guard started else { return }
        lock.lock()
        stopping = true
        let wake = !wakePending
        wakePending = true
        lock.unlock()
        if wake { signalWake() }
        if exited.wait(timeout: .now() + .nanoseconds(Int(timeout.nanoseconds))) == .success {
            Glibc.close(wakeFD)
            Glibc.close(epollFD)
        }
    }

    private func signalWake() {
        var one: UInt64 = 1
        while Glibc.write(wakeFD, &one, 8) < 0 && errno == EINTR {}
        // EAGAIN means the counter is already non-zero: the loop wakes anyway.
    }

    // MARK: interest (any thread)

    /// Adds, changes or removes the descriptor's interest. With none, the descriptor leaves the set: a hung-up
    /// socket is reported with every wait even without interest, which would spin the loop.
    func update(_ watcher: IOWatcher, from old: UInt32, to new: UInt32) {
        guard old != new else { return }
        var event = epoll_event()
        event.events = new
        event.data.ptr = Unmanaged.passUnretained(watcher).toOpaque()
        let operation = old == 0 ? EPOLL_CTL_ADD : (new == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD)
        if epoll_ctl(epollFD, operation, watcher.fd, &event) != 0 {
            logger.error("epoll_ctl(\(operation)) on fd \(watcher.fd) failed: \(String(cString: strerror(errno)))")
        }
    }

    // MARK: the loop's thread

    private func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var tasksLeft = false
        while true {
            // Tasks the last round's tasks handed over (on this thread, so without a wake-up) run after a look at
            // the sockets that does not wait.
            let count = epoll_wait(epollFD, events, Int32(capacity), tasksLeft ? 0 : -1)
            if count < 0 {
                if errno == EINTR { continue }
                logger.error("epoll_wait failed: \(String(cString: strerror(errno))); the event loop stops")
                return
            }
            var woken = false
            for i in 0..<Int(count) {
                let event = events[i]
                guard let pointer = event.data.ptr else {
                    woken = true
                    continue
                }
                Unmanaged<IOWatcher>.fromOpaque(pointer).takeUnretainedValue().handle(event.events)
            }
            if woken {
                var counter: UInt64 = 0
                _ = Glibc.read(wakeFD, &counter, 8)
            }
            let (stop, left) = runTasks(woken: woken)
            if stop { return }
            tasksLeft = left
        }
    }

    /// Runs the tasks handed over so far, in order; those they hand over wait for the next round. Says whether the
    /// loop is to stop, and whether tasks are waiting.
    private func runTasks(woken: Bool) -> (stop: Bool, left: Bool) {
        lock.lock()
        if woken { wakePending = false }
        if tasks.isEmpty && !stopping {
            lock.unlock()
            return (false, false)
        }
        let due = tasks
        tasks = []
        let stop = stopping
        lock.unlock()
        for task in due { task() }
        lock.lock()
        let left = !tasks.isEmpty
        lock.unlock()
        return (stop, left)
    }
}

/// A descriptor watched by one event loop: handlers run on the loop's thread while their interest is on.
/// `cancel` takes the descriptor out of the set; `onCancel` then runs on the loop, after any event already taken
/// from the kernel, and the watcher is released. The descriptor is the owner's to close in `onCancel`.
final class IOWatcher: @unchecked Sendable {
    let fd: Int32
    let loop: EventLoop
    private let onReadable: () -> Void
    private let onWritable: () -> Void
    private let onCancel: () -> Void
    // `reading`, `writing` and `cancelled` are guarded by `lock`.
    private let lock = NSLock()
    private var reading = false
    private var writing = false
    private var cancelled = false

    /// The watcher keeps itself alive until its cancel has run, as the kernel holds a pointer to it.
    init(fd: Int32, loop: EventLoop, onReadable: @escaping () -> Void, onWritable: @escaping () -> Void,
         onCancel: @escaping () -> Void) {
        self.fd = fd
        self.loop = loop
        self.onReadable = onReadable
        self.onWritable = onWritable
        self.onCancel = onCancel
        _ = Unmanaged.passRetained(self)
    }

    private var mask: UInt32 {
        (reading ? EPOLLIN.rawValue : 0) | (writing ? EPOLLOUT.rawValue : 0)
    }

    /// Turns watching for readability on or off.
    func setReading(_ on: Bool) { setInterest(reading: on, writing: nil) }

    /// Turns watching for writability on or off.
    func setWriting(_ on: Bool) { setInterest(reading: nil, writing: on) }

    private func setInterest(reading newReading: Bool?, writing newWriting: Bool?) {
        lock.lock()
        defer { lock.unlock() }
        guard !cancelled else { return }
        let old = mask
        reading = newReading ?? reading
        writing = newWriting ?? writing
        loop.update(self, from: old, to: mask)
    }

    /// Stops watching for good; `onCancel` runs on the loop once. Safe to call more than once, from any thread.
    func cancel() {
        lock.lock()
        guard !cancelled else {
            lock.unlock()
            return
        }
        cancelled = true
        let old = mask
        reading = false
        writing = false
        loop.update(self, from: old, to: 0)
        lock.unlock()
        loop.execute { [self] in
            onCancel()
            Unmanaged.passUnretained(self).release()
        }
    }

    /// On the loop's thread: the events the kernel reported.
    func handle(_ events: UInt32) {
        lock.lock()
        let read = reading, write = writing
        lock.unlock()
        let failed = events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        if read && (failed || events & EPOLLIN.rawValue != 0) { onReadable() }
        if write && (failed || events & EPOLLOUT.rawValue != 0) {
            // The read handler may have closed or filled the connection meanwhile.
            lock.lock()
            let still = writing
            lock.unlock()
            if still { onWritable() }
        }
    }
}
