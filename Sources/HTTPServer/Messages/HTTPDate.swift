#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The `Date:` header line, formatted once per second and shared (formatting per request is costly).
final class DateHeaderCache: @unchecked Sendable {
    // Guarded by `lock`; the critical section is a compare and an array copy.
    private let lock = NSLock()
    private var second: time_t = 0
    private var line: [UInt8] = []

    func current() -> [UInt8] {
        let now = time(nil)
        lock.lock()
        defer { lock.unlock() }
        if now != second {
            second = now
            line = Array("Date: \(HTTPDate.imfFixdate(now))\r\n".utf8)
        }
        return line
    }
}

/// Date formats used on the wire, built from `gmtime_r` (no DateFormatter on hot paths).
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 9110 §5.6.7 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func imfFixdate(_ t: time_t) -> String {
        var tmv = tm()
        var time = t
        gmtime_r(&time, &tmv)
        return "\(days[Int(tmv.tm_wday)]), \(pad2(tmv.tm_mday)) \(months[Int(tmv.tm_mon)]) \(tmv.tm_year + 1900) "
            + "\(pad2(tmv.tm_hour)):\(pad2(tmv.tm_min)):\(pad2(tmv.tm_sec)) GMT"
    }

    static func pad2(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
}
