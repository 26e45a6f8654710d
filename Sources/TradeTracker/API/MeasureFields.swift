import JSON
import SQLite

/// The fields measures (tariff measures and export controls) share beyond plain values: suspension windows,
/// HS codes and `responds_to` links — their shape checks here, the rules that span fields or need stored data below.
enum MeasureFields {
    typealias FieldProblem = Problem.FieldError
    static let maxSuspensions = 50
    static let maxHSCodes = 500
    static let maxReferences = 50
    static let maxNoteLength = 2000
    static let referenceTypes = ["tariff-measures", "export-controls"]

    /// `[{from, until, note}]`: `from` a date, `until` a later date or null (open-ended), `note` optional text.
    /// Stored normalised, every window with all three members.
    static func suspensions(_ value: JSONValue, pointer: String) -> FieldDecoder.Decoded {
        guard case .array(let items) = value else { return .invalid([.init(pointer: pointer, message: "must be an array of suspension windows")]) }
        var problems: [FieldProblem] = []
        if items.count > maxSuspensions { problems.append(.init(pointer: pointer, message: "must have at most \(maxSuspensions) windows")) }
        var json = JSONWriter(capacity: 64 + items.count * 64)
        json.beginArray()
        for (i, item) in items.enumerated() {
            let at = "\(pointer)/\(i)"
            guard case .object(let members) = item else {
                problems.append(.init(pointer: at, message: "must be an object {from, until, note}"))
                continue
            }
            for (name, _) in members where !["from", "until", "note"].contains(name) {
                problems.append(.init(pointer: "\(at)/\(JSONPointer.escape(name))", message: "is not a member of a suspension window (from, until, note)"))
            }
            let from = item["from"]?.stringValue.flatMap(CalendarDate.init)
            if from == nil { problems.append(.init(pointer: "\(at)/from", message: "is required: a real calendar date written YYYY-MM-DD")) }
            var until: CalendarDate?
            switch item["until"] {
            case nil, .null?: break
            case .string(let text)? where CalendarDate(text) != nil: until = CalendarDate(text)
            default: problems.append(.init(pointer: "\(at)/until", message: "must be a real calendar date written YYYY-MM-DD, or null for no end"))
            }
            if let from, let until, until <= from { problems.append(.init(pointer: "\(at)/until", message: "must be after from")) }
            var note: String?
            switch item["note"] {
            case nil, .null?: break
            case .string(let text)? where (1...maxNoteLength).contains(text.unicodeScalars.count) && !FieldDecoder.hasNUL(text): note = text
            default: problems.append(.init(pointer: "\(at)/note", message: "must be a string of 1 to \(maxNoteLength) characters (no NUL), or null"))
            }
            if let from { Suspension(from: from.description, until: until?.description, note: note).write(into: &json) }
        }
        json.endArray()
        return problems.isEmpty ? .value(.text(String(decoding: json.bytes, as: UTF8.self))) : .invalid(problems)
    }

    /// HS codes as strings of 2, 4, 6, 8 or 10 digits, each once.
    static func hsCodes(_ value: JSONValue, pointer: String) -> FieldDecoder.Decoded {
        guard case .array(let items) = value else { return .invalid([.init(pointer: pointer, message: "must be an array of HS codes")]) }
        var problems: [FieldProblem] = []
        var seen = Set<String>()
        for (i, item) in items.enumerated() {
            guard case .string(let code) = item, isHSCode(code) else {
                problems.append(.init(pointer: "\(pointer)/\(i)", message: "must be an HS code: a string of 2, 4, 6, 8 or 10 digits"))
                continue
            }
            if !seen.insert(code).inserted { problems.append(.init(pointer: "\(pointer)/\(i)", message: "repeats \(code)")) }
        }
        if items.count > maxHSCodes { problems.append(.init(pointer: pointer, message: "must have at most \(maxHSCodes) codes")) }
        return problems.isEmpty ? .value(.text(String(decoding: value.encoded, as: UTF8.self))) : .invalid(problems)
    }

    static func isHSCode(_ code: String) -> Bool {
        [2, 4, 6, 8, 10].contains(code.utf8.count) && code.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// `[{type, id}]` with `type` one of the measure resources; existence and self-reference are checked against
    /// stored data (`checkReferences`). Stored normalised as `{"type", "id"}`.
    static func references(_ value: JSONValue, pointer: String) -> FieldDecoder.Decoded {
        guard case .array(let items) = value else {
            return .invalid([.init(pointer: pointer, message: "must be an array of {type, id} references")])
        }
        var problems: [FieldProblem] = []
        var seen = Set<String>()
        var json = JSONWriter(capacity: 16 + items.count * 40)
        json.beginArray()
        for (i, item) in items.enumerated() {
            let at = "\(pointer)/\(i)"
            guard case .object(let members) = item else {
                problems.append(.init(pointer: at, message: "must be an object {type, id}"))
                continue
            }
            for (name, _) in members where name != "type" && name != "id" {
                problems.append(.init(pointer: "\(at)/\(JSONPointer.escape(name))", message: "is not a member of a reference (type, id)"))
            }
            guard let type = item["type"]?.stringValue, referenceTypes.contains(type) else {
                problems.append(.init(pointer: "\(at)/type", message: "must be one of \(referenceTypes.joined(separator: ", "))"))
                continue
            }
            guard let id = item["id"]?.integerValue, id >= 1 else {
                problems.append(.init(pointer: "\(at)/id", message: "must be the integer id of a measure"))
                continue
            }
            if !seen.insert("\(type)/\(id)").inserted { problems.append(.init(pointer: at, message: "repeats \(type) \(id)")) }
            json.beginObject()
            json.member("type", type)
            json.member("id", id)
            json.endObject()
        }
        json.endArray()
        if items.count > maxReferences { problems.append(.init(pointer: pointer, message: "must have at most \(maxReferences) references")) }
        return problems.isEmpty ? .value(.text(String(decoding: json.bytes, as: UTF8.self))) : .invalid(problems)
    }

    /// `in_effect_today`, computed when a measure is read.
    static let inEffectToday = ComputedField(name: "in_effect_today") { row, today, json in
        json.bool(MeasureSchedule(row).isInEffect(on: today.description))
    }

    /// The stored-data check of `responds_to` for measures of `resource`.
    static func referenceCheck(for resource: String) -> @Sendable (WriteTransaction, RecordValues, Int64?) throws -> [FieldProblem] {
        { transaction, values, selfID in try checkReferences(transaction, values, resource: resource, selfID: selfID) }
    }

    // MARK: rules on the whole record

    /// Each window shares at least one day with the effective period [effective_from, effective_until) (it may
    /// begin before it and end after it), and no two windows overlap (adjacent is fine).
    static func checkSuspensions(_ values: RecordValues) -> [FieldProblem] {
        guard case .text(let text)? = values["suspensions"], case .text(let from)? = values["effective_from"] else { return [] }
        let until: String? = if case .text(let u)? = values["effective_until"] { u } else { nil }
        let windows = Suspension.parse(text)
        var problems: [FieldProblem] = []
        for (i, window) in windows.enumerated() {
            let startsBeforeEnd = until.map { window.from < $0 } ?? true
            let endsAfterStart = window.until.map { $0 > from } ?? true
            if !(startsBeforeEnd && endsAfterStart) {
                problems.append(.init(pointer: "/suspensions/\(i)",
                                      message: "shares no day with the measure's effective period (\(from) to \(until ?? "no end"))"))
            }
        }
        let order = windows.indices.sorted { windows[$0].from < windows[$1].from }
        for (a, b) in zip(order, order.dropFirst()) {
            let first = windows[a], second = windows[b]
            if first.until.map({ $0 > second.from }) ?? true {
                problems.append(.init(pointer: "/suspensions/\(b)",
                                      message: "overlaps the window from \(first.from) (windows of one measure must not overlap)"))
            }
        }
        return problems
    }

    /// Every `responds_to` reference names a stored measure, and none names the record itself. In an import a
    /// measure may answer one that comes later in the file: a missing one is left to the import's pending
    /// references, which fail the import if it never arrives.
    static func checkReferences(_ transaction: WriteTransaction, _ values: RecordValues, resource: String, selfID: Int64?) throws -> [FieldProblem] {
        let db = transaction.db
        guard case .text(let text)? = values["responds_to"], let json = try? JSONParser.parse(Array(text.utf8)),
              let items = json.arrayValue else { return [] }
        var problems: [FieldProblem] = []
        for (i, item) in items.enumerated() {
            guard let type = item["type"]?.stringValue, let id = item["id"]?.integerValue,
                  let table = ResourceCatalogue.resource(named: type)?.table else { continue }
            if type == resource && Int64(id) == selfID {
                problems.append(.init(pointer: "/responds_to/\(i)", message: "cannot refer to the record itself"))
            } else if try db.queryOne("SELECT 1 FROM \(table) WHERE id = ?", [.integer(Int64(id))]) == nil {
                let problem = FieldProblem(pointer: "/responds_to/\(i)",
                                           message: "refers to \(English.withArticle(type.replacingOccurrences(of: "-", with: " ").dropLast())) that does not exist (id \(id))")
                if let pending = transaction.pendingReferences { pending.expect(table: table, id: Int64(id), problem) } else { problems.append(problem) }
            }
        }
        return problems
    }
}
