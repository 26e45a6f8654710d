import JSON
import HTTPServer
import SQLite

/// Another resource a field points at by id.
struct Reference: Sendable {
    let table: String
    let singular: String
}

/// What values a field takes; decides validation, storage and JSON output.
enum FieldKind: Sendable {
    case text(min: Int, max: Int)
    case slug
    case enumeration([String])
    case date
    case country
    case countryList(min: Int, max: Int)
    case stringList(minItems: Int = 0, maxItems: Int, maxLength: Int)
    /// Windows `{from, until, note}` in which a measure is not applied (API.md §2 "suspensions").
    case suspensions
    /// Harmonized System codes: strings of 2, 4, 6, 8 or 10 digits.
    case hsCodes
    /// Measures of either kind a measure answers: `{type, id}`, each existing and not the record itself.
    case measureReferences
    /// An object from country code to text (issue positions).
    case countryTextMap(maxEntries: Int, maxLength: Int)
    case reference(Reference)
    /// A percentage with at most two decimals, stored as integer hundredths.
    case rate
    case url
    /// A server-assigned integer (read-only).
    case integer
}

/// One field of a resource: its JSON name, column, kind and rules on create.
struct Field: Sendable {
    let name: String
    let column: String
    let kind: FieldKind
    let required: Bool
    let readOnly: Bool
    let defaultValue: SQLValue?
    /// `"name":` ready to copy into responses.
    let jsonKey: [UInt8]

    init(_ name: String, _ kind: FieldKind, required: Bool = false, readOnly: Bool = false,
         default defaultValue: SQLValue? = nil, column: String? = nil) {
        self.name = name
        self.column = column ?? name
        self.kind = kind
        self.required = required
        self.readOnly = readOnly
        self.defaultValue = defaultValue
        self.jsonKey = JSONWriter.keyBytes(name)
    }

    /// Whether the column holds JSON text that is written to responses as is.
    var isJSONColumn: Bool {
        switch kind {
        case .countryList, .stringList, .countryTextMap, .suspensions, .hsCodes, .measureReferences: return true
        default: return false
        }
    }

    var isInteger: Bool {
        switch kind {
        case .reference, .rate, .integer: return true
        default: return false
        }
    }
}
