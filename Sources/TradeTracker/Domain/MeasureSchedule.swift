import JSON
import SQLite

/// A window in which a measure is in force on paper but not applied: [from, until), `until` nil = open-ended.
struct Suspension: Sendable, Equatable {
    let from: String
    let until: String?
    let note: String?

    func covers(_ day: String) -> Bool { from <= day && (until.map { day < $0 } ?? true) }

    /// The windows stored in a `suspensions` column (JSON text, already validated); [] for anything else.
    static func parse(_ text: String?) -> [Suspension] {
        guard let text, let json = try? JSONParser.parse(Array(text.utf8)), let items = json.arrayValue else { return [] }
        return items.compactMap { item in
            guard let from = item["from"]?.stringValue else { return nil }
            return Suspension(from: from, until: item["until"]?.stringValue, note: item["note"]?.stringValue)
        }
    }

    func write(into json: inout JSONWriter) {
        json.beginObject()
        json.member("from", from)
        json.member("until", until)
        json.member("note", note)
        json.endObject()
    }
}

/// When a measure (tariff or export control) applies: on day D when it is `enacted`, `effective_from` ≤ D <
/// `effective_until` (or no end), and D lies in none of its suspension windows. Dates compare as their text.
struct MeasureSchedule: Sendable {
    let enacted: Bool
    let from: String
    let until: String?
    let suspensions: [Suspension]

    init(enacted: Bool, from: String, until: String?, suspensions: [Suspension]) {
        self.enacted = enacted
        self.from = from
        self.until = until
        self.suspensions = suspensions.sorted { $0.from < $1.from }
    }

    init(_ row: Row) {
        self.init(enacted: row.text("status") == "enacted", from: row.text("effective_from") ?? "9999-12-31",
                  until: row.text("effective_until"), suspensions: Suspension.parse(row.text("suspensions")))
    }

    /// In force on paper that day (enacted and within its effective period), suspended or not.
    func isEnacted(on day: String) -> Bool { enacted && from <= day && (until.map { day < $0 } ?? true) }

    func isInEffect(on day: String) -> Bool { isEnacted(on: day) && suspension(covering: day) == nil }

    /// The window that suspends the measure on `day`, if one does.
    func suspension(covering day: String) -> Suspension? { suspensions.first { $0.covers(day) } }

    /// The periods [start, end) in which the measure applies, oldest first (none unless enacted).
    var activePeriods: [(start: String, end: String?)] {
        guard enacted else { return [] }
        var periods: [(start: String, end: String?)] = []
        var cursor: String? = from
        for window in suspensions {
            guard let start = cursor else { break }
            if let end = until, window.from >= end { break }
            if let windowEnd = window.until, windowEnd <= start { continue }
            if window.from > start { periods.append((start, window.from)) }
            cursor = window.until.map { max($0, start) }
        }
        if let start = cursor, until.map({ start < $0 }) ?? true { periods.append((start, until)) }
        return periods
    }

    /// The SQL condition "in effect on `day`" (an SQL expression: `?` bound to a date, or a column) for a table
    /// aliased `alias`: the same rule as `isInEffect`, for list filters and counts.
    static func inEffectSQL(_ alias: String, day: String, dialect: SQLDialect) -> String {
        """
        (\(alias).status = 'enacted' AND \(alias).effective_from <= \(day) \
        AND (\(alias).effective_until IS NULL OR \(alias).effective_until > \(day)) \
        AND NOT EXISTS (SELECT 1 FROM \(dialect.jsonArrayItems("\(alias).suspensions", as: "w")) \
        WHERE w.value ->> 'from' <= \(day) AND (w.value ->> 'until' IS NULL OR w.value ->> 'until' > \(day))))
        """
    }
}
