import HTTPServer
import SQLite

/// Writes stored rows as the API's JSON, straight into a byte buffer (no intermediate objects).
enum RecordEncoder {
    static func write(_ row: Row, spec: ResourceSpec, today: CalendarDate, into json: inout JSONWriter) {
        json.beginObject()
        json.key("id")
        json.int(row.int("id") ?? 0)
        for field in spec.fields {
            json.key(field.name)
            writeValue(row[field.column] ?? .null, field: field, into: &json)
        }
        for computed in spec.computed {
            json.key(computed.name)
            computed.write(row, today, &json)
        }
        json.member("created_at", row.text("created_at"))
        json.member("updated_at", row.text("updated_at"))
        json.key("version")
        json.int(row.int("version") ?? 1)
        json.endObject()
    }

    static func encode(_ row: Row, spec: ResourceSpec, today: CalendarDate) -> [UInt8] {
        var json = JSONWriter(capacity: 512)
        write(row, spec: spec, today: today, into: &json)
        return json.bytes
    }

    /// One field's column value as JSON.
    static func writeValue(_ value: SQLValue, field: Field, into json: inout JSONWriter) {
        switch value {
        case .null:
            json.null()
        case .integer(let n):
            if case .rate = field.kind { json.number(RatePercent.jsonNumber(hundredths: n)) } else { json.int(n) }
        case .text(let s):
            if field.isJSONColumn { json.raw(Array(s.utf8)) } else { json.string(s) }
        case .real(let d):
            json.number(String(d))
        case .blob:
            json.null()
        }
    }

    /// A field's value as a `JSONValue` (for change-log entries).
    static func jsonValue(_ value: SQLValue, field: Field) -> JSONValue {
        var json = JSONWriter(capacity: 32)
        writeValue(value, field: field, into: &json)
        return (try? JSONParser.parse(json.bytes)) ?? .null
    }
}
