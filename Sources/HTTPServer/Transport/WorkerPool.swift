import Foundation

/// A fixed set of threads that run handler jobs from one queue; blocking work never lands on Dispatch's global pool.
public final class WorkerPool: @unchecked Sendable {
    // `jobs`, `head` and `stopping` are guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [(@Sendable () -> Void)?] = []
    private var head = 0
    private var stopping = false
    private var threads: [Thread] = []
    private let exited = DispatchGroup()

    public init(threadCount: Int, name: String = "worker") {
        for i in 0..<max(1, threadCount) {
            exited.enter()
            let thread = Thread { [self] in
                // Set from inside: only then does Foundation pass the name to the kernel (perf, top -H, /proc/PID/task).
                Thread.current.name = "\(name)-\(i)"
                run()
                exited.leave()
            }
            thread.stackSize = 1 << 20
            threads.append(thread)
            thread.start()
        }
    }

    public func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count {
                condition.unlock()
                return
            }
            let job = jobs[head]
            jobs[head] = nil
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job?()
        }
    }

    /// Lets queued jobs finish, then ends the threads.
    public func stop(timeout: Duration) {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        _ = exited.wait(timeout: .now() + .nanoseconds(Int(timeout.nanoseconds)))
    }
}
