import JSON
import HTTPServer
import SQLite

/// `GET /v1/tariff-rates/history`: the all-goods total between two parties as a step series, for charts.
///
/// Computed from change points, not day by day: the total on `from`, then the net change of every day on which a
/// counting measure starts, ends, is suspended or resumes. Days whose changes cancel out (one measure ending the day
/// another of the same rate starts) are dropped, so adjacent periods never repeat a total.
///
/// The rows cover the whole range: the first starts at `from` (at 0 when nothing is in effect yet), and each
/// `until` is the real, exclusive end of its period, which may lie after `to`; `null` when nothing known changes it.
enum TariffRateHistory {
    /// One period of constant total: [from, until).
    struct Period: Equatable {
        var from: String
        var until: String?
        var hundredths: Int64
    }

    static func register(context: APIContext, on router: inout Router) {
        router.add("GET", "/v1/tariff-rates/history") { request in
            let parameters = try ViewParameters(request, allowed: ["imposed_by", "imposed_on", "from", "to"])
            let pair = try parameters.tariffPair()
            let from = try parameters.date("from", default: nil)
            let to = try parameters.date("to", default: context.clock.today())
            guard from <= to else { throw APIError.invalidParameter("from", "must not be after to (\(to))") }
            let periods = try context.read { db in
                try db.snapshot { try series(db, by: pair.by, on: pair.on, from: from, to: to) }
            }
            var json = JSONWriter(capacity: 256 + periods.count * 80)
            json.beginObject()
            json.member("imposed_by", pair.by)
            json.member("imposed_on", pair.on)
            json.member("from", from.description)
            json.member("to", to.description)
            json.key("data")
            json.beginArray()
            for period in periods {
                json.beginObject()
                json.member("from", period.from)
                json.member("until", period.until)
                json.key("total_rate_percent")
                json.number(RatePercent.jsonNumber(hundredths: period.hundredths))
                json.endObject()
            }
            json.endArray()
            json.endObject()
            return HTTPResponse.json(json.bytes)
        }
    }

    /// The periods of constant total that overlap [from, to]; run it in one read transaction. Each measure counts
    /// over its active periods (its effective period less its suspension windows).
    static func series(_ db: some SQLExecutor, by: String, on: String, from: CalendarDate, to: CalendarDate) throws -> [Period] {
        let start = from.description
        var opening: Int64 = 0
        // Net change per day after `from`: + when a counting period starts, - when it ends.
        var changes: [String: Int64] = [:]
        for row in try db.query(TariffRates.pairMeasures, [.text(by), .text(on)]) {
            let rate = row.int("rate_hundredths") ?? 0
            for period in MeasureSchedule(row).activePeriods {
                if period.start <= start && (period.end.map { start < $0 } ?? true) { opening += rate }
                if period.start > start { changes[period.start, default: 0] += rate }
                if let end = period.end, end > start { changes[end, default: 0] -= rate }
            }
        }
        var total = opening
        var periods = [Period(from: start, until: nil, hundredths: total)]
        let last = to.description
        // Days whose changes cancel out (one period ending the day another of the same rate starts) are dropped, so
        // adjacent periods never repeat a total.
        for (day, delta) in changes.sorted(by: { $0.key < $1.key }) where delta != 0 {
            periods[periods.count - 1].until = day
            if day > last { break }
            total += delta
            periods.append(Period(from: day, until: nil, hundredths: total))
        }
        return periods
    }
}
