import JSON
import HTTPServer
import SQLite

/// `GET /v1/tariff-rates`: the all-goods total one party imposes on another on a day, with the measures that make it.
enum TariffRates {
    /// The measures that count toward the all-goods total on a day (bind the day twice): enacted, all goods, and
    /// in effect (effective_from ≤ D < effective_until, or no end). Partial coverage never counts.
    static let countsOnDay = """
        status = 'enacted' AND coverage = 'all_goods' AND effective_from <= ? AND (effective_until IS NULL OR effective_until > ?)
        """

    static func register(context: APIContext, on router: inout Router) {
        router.add("GET", "/v1/tariff-rates") { request in
            let parameters = try ViewParameters(request, allowed: ["imposed_by", "imposed_on", "as_of"])
            let pair = try parameters.tariffPair()
            let today = context.clock.today()
            let day = try parameters.date("as_of", default: today)
            let rows = try context.read { db in
                try db.query("""
                    SELECT * FROM tariff_measures WHERE imposed_by = ? AND imposed_on = ? AND \(countsOnDay)
                    ORDER BY effective_from, id
                    """, [.text(pair.by), .text(pair.on), .text(day.description), .text(day.description)])
            }
            let total = rows.reduce(Int64(0)) { $0 + ($1.int("rate_hundredths") ?? 0) }
            var json = JSONWriter(capacity: 512 + rows.count * 512)
            json.beginObject()
            json.member("imposed_by", pair.by)
            json.member("imposed_on", pair.on)
            json.member("as_of", day.description)
            json.key("total_rate_percent")
            json.number(RatePercent.jsonNumber(hundredths: total))
            json.key("measures")
            json.beginArray()
            for row in rows { RecordEncoder.write(row, spec: TariffMeasures.spec, today: today, into: &json) }
            json.endArray()
            json.endObject()
            return HTTPResponse.json(json.bytes)
        }
    }

    /// The all-goods total in hundredths for every pair that has one on `day`, keyed `"USA>CHN"`.
    static func totals(_ db: SQLiteConnection, on day: CalendarDate) throws -> [String: Int64] {
        let rows = try db.query("""
            SELECT imposed_by, imposed_on, SUM(rate_hundredths) AS total FROM tariff_measures WHERE \(countsOnDay)
            GROUP BY imposed_by, imposed_on
            """, [.text(day.description), .text(day.description)])
        var totals: [String: Int64] = [:]
        for row in rows { totals[(row.text("imposed_by") ?? "") + ">" + (row.text("imposed_on") ?? "")] = row.int("total") ?? 0 }
        return totals
    }
}
