import HTTPServer
import JSON
import SQLite

/// A list request after validation: filters, sort, range, search, page size and where to continue.
struct ListQuery: Sendable {
    /// The list a cursor belongs to.
    var scope: CursorScope
    var limit = 50
    var filters: [(filter: ListFilter, values: [String])] = []
    var sort: [SortKey] = []
    var search: String?
    var from: String?
    var to: String?
    var updatedSince: String?
    /// Sort-key values of the last row already served.
    var after: [SQLValue]?
    /// The normalised parameters (all but limit and cursor) a cursor carries and must be used with.
    var parameters: [[String]] = []
    /// Values of the definition's extra parameters.
    var extra: [String: [String]] = [:]
    /// `format=csv|ndjson|json` as given (an export when csv or ndjson), and `download=1`.
    var format: String?
    var download = false

    static let maxLimit = 500
    /// The most values one filter may OR together.
    static let maxFilterValues = 100

    /// Parses and validates `request`'s query for a list; every unknown or bad parameter is a 400 naming it.
    static func parse(_ request: HTTPRequest, _ definition: ListDefinition, scope: CursorScope,
                      signer: CursorSigner) throws(Problem) -> ListQuery {
        var grouped: [(String, [String])] = []
        for (name, value) in try request.validatedQueryItems() {
            if let i = grouped.firstIndex(where: { $0.0 == name }) { grouped[i].1.append(value) } else { grouped.append((name, [value])) }
        }
        let allowed = definition.parameterNames
        for (name, _) in grouped where !allowed.contains(name) {
            throw APIError.invalidParameter(name, "is not a parameter of this list; it takes \(allowed.sorted().joined(separator: ", "))")
        }
        var query = ListQuery(scope: scope)
        var cursorPayload: CursorSigner.Payload?
        for (name, values) in grouped {
            let repeatable = definition.filters.contains { $0.name == name }
            if !repeatable && values.count > 1 { throw APIError.invalidParameter(name, "is given more than once") }
            switch name {
            case "limit":
                guard let n = Int(values[0]), (1...maxLimit).contains(n) else {
                    throw APIError.invalidParameter("limit", "must be a whole number from 1 to \(maxLimit)")
                }
                query.limit = n
            case "format":
                query.format = values[0]
            case "download":
                guard ["0", "1", "true", "false"].contains(values[0]) else {
                    throw APIError.invalidParameter("download", "must be 1 (or true) to get the export as a file")
                }
                query.download = values[0] == "1" || values[0] == "true"
            case "cursor":
                let payload = try signer.decode(values[0])
                guard payload.scope == scope.name else {
                    throw APIError.invalidParameter("cursor", "was issued by another list; start again without it")
                }
                cursorPayload = payload
            default:
                let normalised = repeatable ? Self.splitList(values) : values
                query.parameters.append([name, normalised.joined(separator: ",")])
            }
        }
        query.parameters.sort { $0[0] < $1[0] }
        if let payload = cursorPayload {
            if !query.parameters.isEmpty && query.parameters != payload.parameters {
                throw APIError.invalidParameter("cursor", "was made with other filters or sort; send it alone or with the same ones")
            }
            query.parameters = payload.parameters
            query.after = payload.keys
        }
        try query.apply(definition)
        if let after = query.after, after.count != query.sort.count {
            throw APIError.invalidParameter("cursor", "does not fit this list; start again without it")
        }
        return query
    }

    private static func splitList(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingHTTPWhitespace() } }
    }

    private mutating func apply(_ definition: ListDefinition) throws(Problem) {
        var sortText = "id"
        for pair in parameters {
            let (name, value) = (pair[0], pair[1])
            if let filter = definition.filters.first(where: { $0.name == name }) {
                let values = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard values.count <= Self.maxFilterValues else {
                    throw APIError.invalidParameter(name, "takes at most \(Self.maxFilterValues) values")
                }
                for v in values { try Self.check(v, filter) }
                filters.append((filter, values))
                continue
            }
            switch name {
            case "sort": sortText = value
            case "q":
                let trimmed = value.trimmingHTTPWhitespace()
                guard !FullTextQuery.make(trimmed).isEmpty, trimmed.unicodeScalars.count <= 200,
                      !trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                    throw APIError.invalidParameter("q", "must be 1 to 200 characters of search text")
                }
                search = trimmed
            case "from", "to":
                guard CalendarDate(value) != nil else { throw APIError.invalidParameter(name, "must be a date written YYYY-MM-DD") }
                if name == "from" { from = value } else { to = value }
            case "updated_since":
                guard let ms = Timestamp.parse(value) else {
                    throw APIError.invalidParameter("updated_since", "must be an RFC 3339 timestamp such as 2025-05-12T08:30:00Z")
                }
                updatedSince = Timestamp.format(epochMilliseconds: ms)
            default:
                if definition.extraParameters.contains(name) {
                    extra[name] = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                }
            }
        }
        if let from, let to, from > to { throw APIError.invalidParameter("from", "must not be after to") }
        if let fixed = definition.fixedSort { sort = fixed } else { sort = try Self.parseSort(sortText, sorts: definition.sorts) }
    }

    private static func check(_ value: String, _ filter: ListFilter) throws(Problem) {
        switch filter.values {
        case .enumeration(let allowed):
            guard allowed.contains(value) else {
                throw APIError.invalidParameter(filter.name, "'\(value)' is not one of \(allowed.joined(separator: ", "))")
            }
        case .country:
            guard Countries.isKnown(value) else {
                throw APIError.invalidParameter(filter.name, "'\(value)' is not an ISO 3166-1 alpha-3 country code")
            }
        case .id:
            guard let n = Int(value), n >= 1 else { throw APIError.invalidParameter(filter.name, "'\(value)' is not an id") }
        case .date:
            guard CalendarDate(value) != nil else { throw APIError.invalidParameter(filter.name, "'\(value)' is not a date written YYYY-MM-DD") }
        case .hsCode:
            guard MeasureFields.isHSCode(value) else {
                throw APIError.invalidParameter(filter.name, "'\(value)' is not an HS code (2, 4, 6, 8 or 10 digits)")
            }
        case .text(let maxLength):
            guard (1...maxLength).contains(value.unicodeScalars.count),
                  !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw APIError.invalidParameter(filter.name, "must be 1 to \(maxLength) characters of text")
            }
        }
    }

    private static func parseSort(_ text: String, sorts: [String: String]) throws(Problem) -> [SortKey] {
        var keys: [SortKey] = []
        let documented = (sorts.keys + ["id"]).sorted()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let descending = part.hasPrefix("-")
            let name = String(descending ? part.dropFirst() : part[...])
            guard let expression = name == "id" ? "t.id" : sorts[name] else {
                throw APIError.invalidParameter("sort", "'\(name)' is not sortable; use \(documented.joined(separator: ", ")) with an optional - prefix")
            }
            guard !keys.contains(where: { $0.name == name }) else { throw APIError.invalidParameter("sort", "names \(name) twice") }
            keys.append(SortKey(name, expression, descending: descending))
        }
        if !keys.contains(where: { $0.name == "id" }) { keys.append(SortKey("id", "t.id")) }
        return keys
    }

    /// A keyset walk over `from` narrowed by this query's filters, search, date range and `updated_since`.
    /// Rows are aliased `t`; `columns` is what to select besides the sort keys.
    func keyset(columns: String, from table: String, definition: ListDefinition, dialect: SQLDialect) -> KeysetQuery {
        var keyset = KeysetQuery(columns: columns, from: "\(table) AS t", sort: sort, after: after, limit: limit)
        let d = dialect
        for (filter, values) in filters {
            let integers = filter.values.isID
            let list = SQLList.values(values, asIntegers: integers)
            let bound = d.boundList(integers: integers)
            switch filter.kind {
            case .equals(let column): keyset.require("t.\(column) IN \(bound)", [list])
            case .jsonArrayContains(let column):
                keyset.require("EXISTS (SELECT 1 FROM \(d.jsonArrayElements("t.\(column)", as: "e", integers: integers)) WHERE e.value IN \(bound))", [list])
            case .destinations(let column):
                keyset.require("""
                    (json_array_length(t.\(column)) = 0 OR EXISTS (SELECT 1 FROM \(d.jsonArrayElements("t.\(column)", as: "e")) WHERE e.value IN \(bound)))
                    """, [list])
            case .subquery(let sql): keyset.require(sql.replacingOccurrences(of: "%VALUES%", with: "SELECT l.value FROM " + d.jsonArrayElements(d.jsonParameter, as: "l", integers: integers)), [list])
            case .jsonArrayContainsIgnoringCase(let column):
                keyset.require("""
                    EXISTS (SELECT 1 FROM \(d.jsonArrayElements("t.\(column)", as: "e")) WHERE \(d.casefold("e.value")) IN \
                    (SELECT \(d.casefold("q.value")) FROM \(d.jsonArrayElements(d.jsonParameter, as: "q"))))
                    """, [list])
            case .hsCodePrefix(let column):
                keyset.require("""
                    EXISTS (SELECT 1 FROM \(d.jsonArrayElements("t.\(column)", as: "h")), \(d.jsonArrayElements(d.jsonParameter, as: "q"))
                    WHERE substr(h.value, 1, length(q.value)) = q.value OR substr(q.value, 1, length(h.value)) = h.value)
                    """, [list])
            case .inEffectOn:
                keyset.require("""
                    EXISTS (SELECT 1 FROM \(d.jsonArrayElements(d.jsonParameter, as: "d")) WHERE \(MeasureSchedule.inEffectSQL("t", day: "d.value", dialect: d)))
                    """, [list])
            }
        }
        if let search, let table = definition.searchTable {
            let match = d.search("t.id", in: table, words: search)
            keyset.require(match.condition, [match.value])
        }
        if let range = definition.dateRange {
            if let from { keyset.require("t.\(range.end) >= ?", [.text(from)]) }
            if let to { keyset.require("t.\(range.start) <= ?", [.text(to)]) }
        }
        if let updatedSince { keyset.require("t.updated_at > ?", [.text(updatedSince)]) }
        return keyset
    }

    /// The cursor for the page after a row with sort-key values `keys`.
    func nextCursor(keys: [SQLValue], signer: CursorSigner) -> String {
        signer.encode(.init(scope: scope.name, parameters: parameters, keys: keys))
    }
}

/// A variable-length list bound as one JSON array, so `IN` lists never change the SQL text; the statement says
/// `IN \(dialect.boundList(integers:))`.
enum SQLList {
    static func values(_ values: [String], asIntegers: Bool) -> SQLValue {
        var json = JSONWriter(capacity: 16 + values.count * 12)
        json.beginArray()
        for value in values {
            if asIntegers, let n = Int64(value) { json.int(n) } else { json.string(value) }
        }
        json.endArray()
        return .text(String(decoding: json.bytes, as: UTF8.self))
    }

    static func ids(_ ids: [Int64]) -> SQLValue {
        var json = JSONWriter(capacity: 16 + ids.count * 8)
        json.beginArray()
        for id in ids { json.int(id) }
        json.endArray()
        return .text(String(decoding: json.bytes, as: UTF8.self))
    }
}

/// FTS5 query text from what a person typed.
enum FullTextQuery {
    /// Each word becomes a quoted prefix term, so user text can never be FTS5 syntax: `he lif` → `"he"* "lif"*`.
    static func make(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace })
            .map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }
            .joined(separator: " ")
    }
}

extension HTTPRequest {
    /// The decoded query items, a malformed escape as a problem.
    /// For a route that takes no query parameters (one record): any given is a 400 naming it, as a list names an
    /// unknown one, so a misspelt `?format=csv` on a record is not silently ignored.
    func refuseQuery(of what: String) throws(Problem) {
        guard query != nil else { return }
        if let first = try validatedQueryItems().first {
            throw APIError.invalidParameter(first.name, "is not a parameter of \(what); it takes none")
        }
    }

    func validatedQueryItems() throws(Problem) -> [(name: String, value: String)] {
        do {
            return try queryItems()
        } catch {
            throw APIError.from(error)
        }
    }
}
