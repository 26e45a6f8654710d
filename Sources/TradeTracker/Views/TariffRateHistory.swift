import JSON
import HTTPServer
import SQLite

/// `GET /v1/tariff-rates/history`: the all-goods total between two parties as a step series, for charts.
///
/// Computed from change points, not day by day: the total on `from`, then the net change of every day on which a
/// counting measure starts or ends. Days whose changes cancel out (one measure ending the day another of the same
/// rate starts) are dropped in SQL, so adjacent periods never repeat a total.
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
                try db.transaction(.deferred) { try series(db, by: pair.by, on: pair.on, from: from, to: to) }
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

    /// The periods of constant total that overlap [from, to]; run it in one read transaction.
    static func series(_ db: SQLiteConnection, by: String, on: String, from: CalendarDate, to: CalendarDate) throws -> [Period] {
        let pair: [SQLValue] = [.text(by), .text(on)]
        let start: [SQLValue] = [.text(from.description)]
        let opening = try db.scalar("""
            SELECT COALESCE(SUM(rate_hundredths), 0) FROM tariff_measures WHERE imposed_by = ? AND imposed_on = ? AND \(TariffRates.countsOnDay)
            """, pair + start + start)
        // Net change per day after `from`: + when a counting measure starts, - when it ends.
        let changes = try db.query("""
            SELECT day, SUM(delta) AS delta FROM (
                SELECT effective_from AS day, rate_hundredths AS delta FROM tariff_measures
                WHERE imposed_by = ? AND imposed_on = ? AND status = 'enacted' AND coverage = 'all_goods' AND effective_from > ?
                UNION ALL
                SELECT effective_until, -rate_hundredths FROM tariff_measures
                WHERE imposed_by = ? AND imposed_on = ? AND status = 'enacted' AND coverage = 'all_goods' AND effective_until > ?
            ) GROUP BY day HAVING SUM(delta) <> 0 ORDER BY day
            """, pair + start + pair + start)
        var total: Int64 = if case .integer(let n)? = opening { n } else { 0 }
        var periods = [Period(from: from.description, until: nil, hundredths: total)]
        let last = to.description
        for change in changes {
            guard let day = change.text("day"), let delta = change.int("delta") else { continue }
            periods[periods.count - 1].until = day
            if day > last { break }
            total += delta
            periods.append(Period(from: day, until: nil, hundredths: total))
        }
        return periods
    }
}
