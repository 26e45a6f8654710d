import HTTPServer
import JSON
import SQLite

/// `GET /v1/tariff-rates`: the all-goods total one party imposes on another on a day, with the measures that make
/// it, and the measures suspended that day (in force on paper, not applied) with the window that suspends them.
enum TariffRates {
    /// Enacted all-goods measures of a pair, any day: what could count toward its total (bind by, on).
    static let pairMeasures = """
        SELECT * FROM tariff_measures WHERE imposed_by = ? AND imposed_on = ? AND status = 'enacted' AND coverage = 'all_goods'
        ORDER BY effective_from, id
        """

    static func register(context: APIContext, on router: inout Router) {
        router.add("GET", "/v1/tariff-rates") { request in
            let parameters = try ViewParameters(request, allowed: ["imposed_by", "imposed_on", "as_of"])
            let pair = try parameters.tariffPair()
            let today = context.clock.today()
            let day = try parameters.date("as_of", default: today).description
            let rows = try context.read { db in try db.query(pairMeasures, [.text(pair.by), .text(pair.on)]) }
            var counted: [Row] = [], suspended: [(Row, Suspension)] = []
            for row in rows {
                let schedule = MeasureSchedule(row)
                guard schedule.isEnacted(on: day) else { continue }
                if let window = schedule.suspension(covering: day) { suspended.append((row, window)) } else { counted.append(row) }
            }
            let total = counted.reduce(Int64(0)) { $0 + ($1.int("rate_hundredths") ?? 0) }
            let suspendedTotal = suspended.reduce(Int64(0)) { $0 + ($1.0.int("rate_hundredths") ?? 0) }
            var json = JSONWriter(capacity: 512 + rows.count * 640)
            json.beginObject()
            json.member("imposed_by", pair.by)
            json.member("imposed_on", pair.on)
            json.member("as_of", day)
            json.key("total_rate_percent")
            json.number(RatePercent.jsonNumber(hundredths: total))
            json.key("measures")
            json.beginArray()
            for row in counted { RecordEncoder.write(row, spec: TariffMeasures.spec, today: today, into: &json) }
            json.endArray()
            json.key("suspended_rate_percent")
            json.number(RatePercent.jsonNumber(hundredths: suspendedTotal))
            json.key("suspended")
            json.beginArray()
            for (row, window) in suspended {
                json.beginObject()
                json.key("window")
                window.write(into: &json)
                json.key("measure")
                RecordEncoder.write(row, spec: TariffMeasures.spec, today: today, into: &json)
                json.endObject()
            }
            json.endArray()
            json.endObject()
            return HTTPResponse.json(json.bytes)
        }
    }

    /// The all-goods total in hundredths for every pair that has one on `day`, keyed `"USA>CHN"`.
    static func totals(_ db: some SQLExecutor, on day: CalendarDate) throws -> [String: Int64] {
        let rows = try db.query("""
            SELECT imposed_by, imposed_on, rate_hundredths, status, effective_from, effective_until, suspensions FROM tariff_measures
            WHERE status = 'enacted' AND coverage = 'all_goods' AND effective_from <= ? AND (effective_until IS NULL OR effective_until > ?)
            """, [.text(day.description), .text(day.description)])
        var totals: [String: Int64] = [:]
        for row in rows where MeasureSchedule(row).isInEffect(on: day.description) {
            totals[(row.text("imposed_by") ?? "") + ">" + (row.text("imposed_on") ?? ""), default: 0] += row.int("rate_hundredths") ?? 0
        }
        return totals
    }
}
