import Foundation
import HTTPServer

/// RFC 3339 UTC instants. Stored with exactly three fractional digits (`2025-05-12T08:30:00.123Z`) so that
/// text order is time order in SQLite.
enum Timestamp {
    static func format(epochMilliseconds ms: Int64) -> String {
        RFC3339.format(epochSeconds: ms / 1000, milliseconds: Int(ms % 1000))
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` into epoch milliseconds (fraction truncated to ms).
    static func parse(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count >= 20, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
              u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: "t"),
              u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
              let date = CalendarDate(String(decoding: u[0..<10], as: UTF8.self)),
              let hour = CalendarDate.digits(u[11..<13]), let minute = CalendarDate.digits(u[14..<16]),
              let second = CalendarDate.digits(u[17..<19]), hour < 24, minute < 60, second <= 60 else { return nil }
        var i = 19
        var millis = 0
        if u[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < u.count, u[i] >= 48, u[i] <= 57 { i += 1 }
            guard i > start else { return nil }
            let fraction = u[start..<min(i, start + 3)]
            millis = CalendarDate.digits(fraction)! * [100, 10, 1][fraction.count - 1]
        }
        guard i < u.count else { return nil }
        var offsetMinutes = 0
        if u[i] == UInt8(ascii: "Z") || u[i] == UInt8(ascii: "z") {
            guard i == u.count - 1 else { return nil }
        } else if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            guard u.count - i == 6, u[i + 3] == UInt8(ascii: ":"), let oh = CalendarDate.digits(u[(i + 1)..<(i + 3)]),
                  let om = CalendarDate.digits(u[(i + 4)..<(i + 6)]), oh < 24, om < 60 else { return nil }
            offsetMinutes = (oh * 60 + om) * (u[i] == UInt8(ascii: "+") ? 1 : -1)
        } else {
            return nil
        }
        let seconds = Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes * 60)
        return seconds * 1000 + Int64(millis)
    }
}

/// The time source for records and "today"; tests substitute a fixed one.
struct TimeSource: Sendable {
    let nowMilliseconds: @Sendable () -> Int64

    static let system = TimeSource {
        var tv = timeval()
        gettimeofday(&tv, nil)
        return Int64(tv.tv_sec) * 1000 + Int64(tv.tv_usec / 1000)
    }

    static func fixed(_ text: String) -> TimeSource {
        let ms = Timestamp.parse(text)!
        return TimeSource { ms }
    }

    func now() -> String { Timestamp.format(epochMilliseconds: nowMilliseconds()) }

    /// Today's date in UTC.
    func today() -> CalendarDate {
        CalendarDate(daysSinceEpoch: Int(nowMilliseconds() / 86_400_000))
    }
}
