import JSON
import HTTPServer
import SQLite

/// Writes stored rows as the API's JSON, straight into a byte buffer (no intermediate objects).
enum RecordEncoder {
    /// Where a query's columns sit, found once per query instead of by name for every field of every row.
    struct Layout {
        let id: Int?, createdAt: Int?, updatedAt: Int?, version: Int?
        let fields: [Int?]

        init(_ row: Row, spec: ResourceSpec) {
            id = row.columnIndex("id")
            createdAt = row.columnIndex("created_at")
            updatedAt = row.columnIndex("updated_at")
            version = row.columnIndex("version")
            fields = spec.fields.map { row.columnIndex($0.column) }
        }
    }

    static func write(_ row: Row, spec: ResourceSpec, today: CalendarDate, into json: inout JSONWriter, layout: Layout? = nil) {
        let layout = layout ?? Layout(row, spec: spec)
        func value(_ index: Int?) -> SQLValue { index.map { row[$0] } ?? .null }
        json.beginObject()
        json.key("id")
        json.int(layout.id.flatMap { row.int($0) } ?? 0)
        // Indices, not `zip`: iterating copies each Field (strings and arrays inside), which showed in profiles.
        spec.fields.withUnsafeBufferPointer { fields in
            for i in 0..<fields.count {
                json.key(bytes: fields[i].jsonKey)
                writeValue(value(layout.fields[i]), field: fields[i], into: &json)
            }
        }
        for computed in spec.computed {
            json.key(computed.name)
            computed.write(row, today, &json)
        }
        json.member("created_at", layout.createdAt.flatMap { row.text($0) })
        json.member("updated_at", layout.updatedAt.flatMap { row.text($0) })
        json.key("version")
        json.int(layout.version.flatMap { row.int($0) } ?? 1)
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

    /// A field's value as a `JSONValue` (for change-log entries): the value `writeValue` writes, parsed back only
    /// for JSON columns (every import and write makes one per field).
    static func jsonValue(_ value: SQLValue, field: Field) -> JSONValue {
        switch value {
        case .null, .blob: return .null
        case .integer(let n):
            if case .rate = field.kind { return .number(RatePercent.jsonNumber(hundredths: n)) }
            return .int(n)
        case .real(let d): return .number(String(d))
        case .text(let s):
            guard field.isJSONColumn else { return .string(s) }
            return (try? JSONParser.parse(Array(s.utf8))) ?? .null
        }
    }
}
