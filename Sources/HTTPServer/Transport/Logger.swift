import Foundation

/// A line logger that buffers and flushes in the background so request threads never wait on stderr.
public final class Logger: @unchecked Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var name: String { ["debug", "info", "warning", "error"][rawValue] }
    }

    public static let standard = Logger()

    // `buffer` is guarded by `lock`; the flush thread swaps it out under the lock and writes outside it.
    private let lock = NSCondition()
    private var buffer: [UInt8] = []
    private var flushScheduled = false
    public let minimumLevel: Level
    private let fd: Int32

    public init(minimumLevel: Level = .info, fd: Int32 = 2) {
        self.minimumLevel = minimumLevel
        self.fd = fd
    }

    public func log(_ level: Level, _ message: @autoclosure () -> String) {
        guard level >= minimumLevel else { return }
        let line = "\(Self.timestamp()) \(level.name) \(message())\n"
        lock.lock()
        buffer.append(contentsOf: line.utf8)
        let schedule = !flushScheduled
        flushScheduled = true
        lock.unlock()
        if schedule {
            // A short delay batches the lines of many requests into one write.
            DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + .milliseconds(50)) { self.flush() }
        }
    }

    public func info(_ message: @autoclosure () -> String) { log(.info, message()) }

    /// Writes `bytes` as one line as they are (no time or level prefix): structured logs (one JSON object a line).
    public func line(_ bytes: [UInt8]) {
        lock.lock()
        buffer.append(contentsOf: bytes)
        buffer.append(10)
        let schedule = !flushScheduled
        flushScheduled = true
        lock.unlock()
        if schedule {
            DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + .milliseconds(50)) { self.flush() }
        }
    }
    public func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    public func error(_ message: @autoclosure () -> String) { log(.error, message()) }

    /// Writes everything buffered now.
    public func flush() {
        lock.lock()
        let pending = buffer
        buffer.removeAll(keepingCapacity: true)
        flushScheduled = false
        lock.unlock()
        var offset = 0
        pending.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    private static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        return RFC3339.format(epochSeconds: Int64(tv.tv_sec), milliseconds: Int(tv.tv_usec / 1000))
    }
}

/// RFC 3339 UTC timestamps (`2025-05-12T08:30:00.123Z`) without DateFormatter.
public enum RFC3339 {
    /// Now, with milliseconds.
    public static func now() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        return format(epochSeconds: Int64(tv.tv_sec), milliseconds: Int(tv.tv_usec / 1000))
    }

    public static func format(epochSeconds: Int64, milliseconds: Int? = nil) -> String {
        var t = time_t(epochSeconds)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var s = "\(tmv.tm_year + 1900)-\(HTTPDate.pad2(tmv.tm_mon + 1))-\(HTTPDate.pad2(tmv.tm_mday))T"
        s += "\(HTTPDate.pad2(tmv.tm_hour)):\(HTTPDate.pad2(tmv.tm_min)):\(HTTPDate.pad2(tmv.tm_sec))"
        if let ms = milliseconds {
            s += "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + String(ms)
        }
        return s + "Z"
    }
}
