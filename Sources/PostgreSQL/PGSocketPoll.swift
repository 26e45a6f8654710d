#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `poll(2)` on one descriptor for readability, retrying `EINTR` with the time that is left.
enum PGSocketPoll {
    /// True when `descriptor` became readable, or reports an error or hang-up (which the
    /// next read then surfaces); false when `timeout` passed first.
    static func waitReadable(_ descriptor: Int32, timeout: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let result = poll(&entry, 1, milliseconds(clock.now.duration(to: deadline)))
            if result > 0 { return true }
            if result == 0 { return false }
            // Any other failure (EBADF on a closed socket) is left for libpq's read to report.
            guard errno == EINTR else { return true }
        }
    }

    /// Rounded up, so a wait of 0.4 ms still waits rather than spinning; clamped to poll's range.
    private static func milliseconds(_ duration: Duration) -> Int32 {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        let millis = seconds.multipliedReportingOverflow(by: 1000)
        guard !millis.overflow else { return Int32.max }
        let total = millis.partialValue + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: total)
    }
}
