import JSON
import SQLite

/// Turns one JSON value into the column value for a field, or says in words what is wrong with it.
enum FieldDecoder {
    typealias FieldProblem = Problem.FieldError

    /// A field's column value, or every problem found in the JSON value.
    enum Decoded {
        case value(SQLValue)
        case invalid([FieldProblem])
    }

    static func decode(_ value: JSONValue, as field: Field, pointer: String) -> Decoded {
        if case .null = value {
            if field.required { return .invalid([FieldProblem(pointer: pointer, message: "is required and cannot be null")]) }
            if field.defaultValue != nil { return .invalid([FieldProblem(pointer: pointer, message: "cannot be null; leave it out to keep the default")]) }
            return .value(.null)
        }
        func fail(_ message: String) -> Decoded { .invalid([FieldProblem(pointer: pointer, message: message)]) }
        switch field.kind {
        case .text(let min, let max):
            guard case .string(let s) = value else { return fail("must be a string") }
            if hasNUL(s) { return fail(nulMessage) }
            // Code points, as SQLite's length() counts them, so the schema's CHECKs agree with this check.
            let count = s.unicodeScalars.count
            if count < min { return fail(min == 1 ? "must not be empty" : "must be at least \(min) characters") }
            if count > max { return fail("must be at most \(max) characters") }
            return .value(.text(s))
        case .slug:
            guard case .string(let s) = value else { return fail("must be a string") }
            guard (1...64).contains(s.utf8.count),
                  s.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: "-") }) else {
                return fail("must be 1 to 64 characters of a-z, 0-9 and -")
            }
            return .value(.text(s))
        case .enumeration(let allowed):
            guard case .string(let s) = value, allowed.contains(s) else {
                return fail("must be one of \(allowed.joined(separator: ", "))")
            }
            return .value(.text(s))
        case .date:
            guard case .string(let s) = value, CalendarDate(s) != nil else {
                return fail("must be a real calendar date written YYYY-MM-DD")
            }
            return .value(.text(s))
        case .country:
            guard case .string(let s) = value, Countries.isKnown(s) else { return fail(countryMessage) }
            return .value(.text(s))
        case .countryList(let min, let max):
            guard case .array(let items) = value else { return fail("must be an array of country codes") }
            var problems: [FieldProblem] = []
            var seen = Set<String>()
            for (i, item) in items.enumerated() {
                if case .string(let s) = item, Countries.isKnown(s) {
                    if !seen.insert(s).inserted { problems.append(FieldProblem(pointer: "\(pointer)/\(i)", message: "repeats \(s)")) }
                } else {
                    problems.append(FieldProblem(pointer: "\(pointer)/\(i)", message: countryMessage))
                }
            }
            if items.count < min { problems.append(FieldProblem(pointer: pointer, message: "must list at least \(min) distinct countries")) }
            if items.count > max { problems.append(FieldProblem(pointer: pointer, message: "must list at most \(max) countries")) }
            return problems.isEmpty ? .value(.text(String(decoding: value.encoded, as: UTF8.self))) : .invalid(problems)
        case .stringList(let minItems, let maxItems, let maxLength):
            guard case .array(let items) = value else { return fail("must be an array of strings") }
            if items.count < minItems { return fail(minItems == 1 ? "must not be empty" : "must have at least \(minItems) items") }
            var problems: [FieldProblem] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item, (1...maxLength).contains(s.unicodeScalars.count) else {
                    problems.append(FieldProblem(pointer: "\(pointer)/\(i)", message: "must be a string of 1 to \(maxLength) characters"))
                    continue
                }
                if hasNUL(s) { problems.append(FieldProblem(pointer: "\(pointer)/\(i)", message: nulMessage)) }
            }
            if items.count > maxItems { problems.append(FieldProblem(pointer: pointer, message: "must have at most \(maxItems) items")) }
            return problems.isEmpty ? .value(.text(String(decoding: value.encoded, as: UTF8.self))) : .invalid(problems)
        case .suspensions:
            return MeasureFields.suspensions(value, pointer: pointer)
        case .hsCodes:
            return MeasureFields.hsCodes(value, pointer: pointer)
        case .measureReferences:
            return MeasureFields.references(value, pointer: pointer)
        case .countryTextMap(let maxEntries, let maxLength):
            guard case .object(let members) = value else { return fail("must be an object from country code to text") }
            var problems: [FieldProblem] = []
            for (key, text) in members {
                let memberPointer = "\(pointer)/\(JSONPointer.escape(key))"
                if !Countries.isKnown(key) { problems.append(FieldProblem(pointer: memberPointer, message: "key " + countryMessage)) }
                guard case .string(let s) = text, (1...maxLength).contains(s.unicodeScalars.count) else {
                    problems.append(FieldProblem(pointer: memberPointer, message: "must be a string of 1 to \(maxLength) characters"))
                    continue
                }
                if hasNUL(s) { problems.append(FieldProblem(pointer: memberPointer, message: nulMessage)) }
            }
            if members.count > maxEntries { problems.append(FieldProblem(pointer: pointer, message: "must have at most \(maxEntries) entries")) }
            return problems.isEmpty ? .value(.text(String(decoding: value.encoded, as: UTF8.self))) : .invalid(problems)
        case .reference(let reference):
            guard let id = value.integerValue, id >= 1 else { return fail("must be the integer id of \(English.withArticle(reference.singular))") }
            return .value(.integer(Int64(id)))
        case .rate:
            guard case .number(let text) = value, let hundredths = RatePercent.hundredths(fromJSONNumber: text),
                  hundredths <= 100_000 else {
                return fail("must be a number from 0 to 1000 with at most 2 decimals")
            }
            return .value(.integer(Int64(hundredths)))
        case .url:
            if case .string(let s) = value, hasNUL(s) { return fail(nulMessage) }
            // 9 to 2048 characters (Unicode scalars, as the schema and SQLite's length() count them); no white space
            // (the schema's pattern: its `\s` is ECMA-262's, which holds U+FEFF too); and an http:// or https:// IRI
            // by RFC 3987's grammar (`format: iri`), which leaves out control characters, < > " { } | \ ^ `, stray
            // brackets and partial % escapes.
            guard case .string(let s) = value, (9...2048).contains(s.unicodeScalars.count),
                  !s.unicodeScalars.contains(where: Self.isWhiteSpace),
                  HTTPIRI.isValid(s) else {
                return fail("must be an http:// or https:// URL (an RFC 3987 IRI) of at most 2048 characters")
            }
            return .value(.text(s))
        case .integer:
            guard let n = value.integerValue, n >= 1 else { return fail("must be a positive integer") }
            return .value(.integer(Int64(n)))
        }
    }

    /// U+0000 is refused in every text field: SQLite's text functions stop at it (length() would count a shorter
    /// string than validation did), and no text in this domain needs it. The schema refuses it too (migration 0005).
    static let nulMessage = "must not contain the NUL character (U+0000)"

    /// White space as the schema's `\s` (ECMA-262) counts it: Unicode's, plus U+FEFF. ASCII is decided by value:
    /// Unicode property lookups cost more than the rest of a record's checks.
    static func isWhiteSpace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value) }
        return scalar.properties.isWhitespace || scalar == "\u{FEFF}"
    }

    static func hasNUL(_ text: String) -> Bool { text.utf8.contains(0) }

    static let countryMessage = "must be an ISO 3166-1 alpha-3 country code in upper case (e.g. USA, CHN; EUN for the EU)"
}

/// RFC 6901 escaping of a member name inside a JSON pointer.
enum JSONPointer {
    static func escape(_ name: String) -> String {
        // Foundation's replacingOccurrences costs more than decoding the field itself; most names need nothing.
        guard name.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return name }
        return name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
