import HTTPServer
import SQLite

/// A list request after validation: filters, sort, range, search, page size and where to continue.
struct ListQuery: Sendable {
    struct SortKey: Sendable {
        let name: String
        let expression: String
        let descending: Bool
    }

    /// The list a cursor belongs to: the resource, plus the owner for sub-lists (`rounds/3/participants`).
    var identity = ""
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
    /// Parameters a sub-list takes beyond the spec's filters (e.g. the timeline's `kind`).
    var extra: [String: [String]] = [:]

    static let maxLimit = 500

    /// Parses and validates `request`'s query for a list of `spec`; every unknown or bad parameter is a 400 naming it.
    static func parse(_ request: HTTPRequest, spec: ResourceSpec, signer: CursorSigner,
                      extraParameters: Set<String> = [], fixedSort: [SortKey]? = nil,
                      identity: String? = nil) throws(HTTPError) -> ListQuery {
        var grouped: [(String, [String])] = []
        for (name, value) in try request.queryItems() {
            if let i = grouped.firstIndex(where: { $0.0 == name }) { grouped[i].1.append(value) } else { grouped.append((name, [value])) }
        }
        var allowed: Set<String> = fixedSort == nil ? ["limit", "cursor", "sort", "updated_since"] : ["limit", "cursor"]
        allowed.formUnion(spec.filters.map(\.name))
        allowed.formUnion(extraParameters)
        if spec.searchTable != nil { allowed.insert("q") }
        if spec.dateRange != nil { allowed.formUnion(["from", "to"]) }
        for (name, _) in grouped where !allowed.contains(name) {
            throw APIError.invalidParameter(name, "is not a parameter of this list; it takes \(allowed.sorted().joined(separator: ", "))")
        }
        var query = ListQuery()
        query.identity = identity ?? spec.name
        var cursorPayload: CursorSigner.Payload?
        for (name, values) in grouped {
            let repeatable = spec.filters.contains { $0.name == name }
            if !repeatable && values.count > 1 { throw APIError.invalidParameter(name, "is given more than once") }
            switch name {
            case "limit":
                guard let n = Int(values[0]), (1...maxLimit).contains(n) else {
                    throw APIError.invalidParameter("limit", "must be a whole number from 1 to \(maxLimit)")
                }
                query.limit = n
            case "cursor":
                let payload = try signer.decode(values[0])
                guard payload.resource == query.identity else {
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
        try query.apply(spec: spec, extraParameters: extraParameters)
        if let fixedSort { query.sort = fixedSort }
        if let after = query.after, after.count != query.sort.count {
            throw APIError.invalidParameter("cursor", "does not fit this list; start again without it")
        }
        return query
    }

    private static func splitList(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingHTTPWhitespace() } }
    }

    private mutating func apply(spec: ResourceSpec, extraParameters: Set<String>) throws(HTTPError) {
        var sortText = "id"
        for pair in parameters {
            let (name, value) = (pair[0], pair[1])
            if let filter = spec.filters.first(where: { $0.name == name }) {
                let values = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                for v in values { try Self.check(v, filter) }
                filters.append((filter, values))
                continue
            }
            switch name {
            case "sort": sortText = value
            case "q":
                let trimmed = value.trimmingHTTPWhitespace()
                guard !trimmed.isEmpty, trimmed.unicodeScalars.count <= 200,
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
                if extraParameters.contains(name) {
                    extra[name] = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                }
            }
        }
        if let from, let to, from > to { throw APIError.invalidParameter("from", "must not be after to") }
        sort = try Self.parseSort(sortText, spec: spec)
    }

    private static func check(_ value: String, _ filter: ListFilter) throws(HTTPError) {
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
        }
    }

    private static func parseSort(_ text: String, spec: ResourceSpec) throws(HTTPError) -> [SortKey] {
        var keys: [SortKey] = []
        let documented = (spec.sorts.keys + ["id"]).sorted()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let descending = part.hasPrefix("-")
            let name = String(descending ? part.dropFirst() : part[...])
            let expression = name == "id" ? "t.id" : spec.sorts[name]
            guard let expression else {
                throw APIError.invalidParameter("sort", "'\(name)' is not sortable; use \(documented.joined(separator: ", ")) with an optional - prefix")
            }
            guard !keys.contains(where: { $0.name == name }) else { throw APIError.invalidParameter("sort", "names \(name) twice") }
            keys.append(SortKey(name: name, expression: expression, descending: descending))
        }
        if !keys.contains(where: { $0.name == "id" }) { keys.append(SortKey(name: "id", expression: "t.id", descending: false)) }
        return keys
    }

    /// The cursor for the page after a row with sort-key values `keys`.
    func nextCursor(keys: [SQLValue], signer: CursorSigner) -> String {
        signer.encode(.init(resource: identity, parameters: parameters, keys: keys))
    }
}
