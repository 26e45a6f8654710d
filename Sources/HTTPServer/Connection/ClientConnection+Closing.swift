import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Timeouts, shutdown and closing: the paths that end a connection, whoever owns it at the moment.
extension ClientConnection {
    /// Called by the sweeper from another thread; schedules the check on the connection's loop when due.
    func checkTimeout(now: UInt64) {
        lock.lock()
        let due = deadline != 0 && now >= deadline && phase != .processing && !closing
        lock.unlock()
        if due { loop.execute { [self] in self.handleTimeout() } }
    }

    func handleTimeout() {
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
            write(context.responder.standaloneResponse(for: .requestTimeout), version: .http11, keepAlive: false, headOnly: false)
        } else {
            close()
        }
    }

    /// During shutdown: closes the connection if it waits between requests.
    func closeIfIdle() {
        loop.execute { [self] in
            lock.lock()
            let current = phase, isClosing = closing
            lock.unlock()
            guard !isClosing else { return }
            if current == .streaming || (current == .reading && parser.phase == .idle) { close() }
        }
    }

    /// Closes at once; the descriptor is closed when the watcher's cancel handler runs. While a worker runs the
    /// request, the descriptor is the worker's: the socket is only shut down (the peer sees the close) and the
    /// worker cancels the watcher when it next looks, so no write can reach a reused descriptor number.
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
            // Reading stays on while a request runs; a shut-down socket is always readable (EOF), so pause it or it
            // would fire without end until the request's owner finishes the close.
            if !readSuspended {
                watcher?.setReading(false)
                readSuspended = true
            }
            return
        }
        phase = .closed
        cancelWatcher()
    }

    /// For the worker: true when the connection was closed meanwhile (and then finishes that close).
    func stopIfClosing() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard closing else { return false }
        finishDeferredClose()
        return true
    }

    /// Must hold `lock`.
    func finishDeferredClose() {
        guard closeDeferred else { return }
        closeDeferred = false
        phase = .closed
        cancelWatcher()
    }

    /// Must hold `lock`.
    func cancelWatcher() {
        watcher?.cancel()
    }

    /// On the loop, once: no event for the descriptor can come any more, so it is closed.
    func watcherCancelled() {
        lock.lock()
        watcher = nil
        lock.unlock()
        SystemCalls.close(fd, logger: context.logger)
        context.registry.remove(self)
        stream?.terminate()
        chunked?.close()
    }
}
