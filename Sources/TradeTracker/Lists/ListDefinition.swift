import SQLite

/// A value a list filter accepts.
enum FilterValueKind: Sendable {
    case enumeration([String])
    case country
    case id
    case date
    case hsCode
    /// Free text of 1 to `maxLength` characters.
    case text(maxLength: Int)

    var isID: Bool { if case .id = self { return true } else { return false } }
}

/// How a list filter narrows the rows; the values given are OR-ed and bound as one JSON array, so the SQL text
/// does not change with how many there are.
enum FilterKind: Sendable {
    /// `column IN (…)`.
    case equals(column: String)
    /// The JSON array in `column` contains one of the values.
    case jsonArrayContains(column: String)
    /// Like `jsonArrayContains`, where an empty array means "every one" (an export control's destinations).
    case destinations(column: String)
    /// `id IN (SELECT … WHERE x IN (%VALUES%))`: the SQL holds `%VALUES%` where the list of values goes.
    case subquery(String)
    /// The JSON array of strings in `column` holds one of the values, compared without case (Unicode lowercase, via the `casefold` SQL function).
    case jsonArrayContainsIgnoringCase(column: String)
    /// The JSON array of HS codes in `column` holds a code that starts with, or is a prefix of, one of the values.
    case hsCodePrefix(column: String)
    /// The measure was in effect on one of the dates (enacted, within its effective period, not suspended).
    case inEffectOn
}

/// A documented list filter: a query parameter named after a field.
struct ListFilter: Sendable {
    let name: String
    let kind: FilterKind
    let values: FilterValueKind
}

/// What one list accepts: its filters, how it may be sorted, search and date range. Resources derive theirs from
/// their spec; sub-lists, history and the timeline declare their own.
struct ListDefinition: Sendable {
    var filters: [ListFilter] = []
    /// Sort names to SQL expressions (`id` always sorts by `t.id`); ignored when `fixedSort` is set.
    var sorts: [String: String] = [:]
    /// A list whose order is not the client's choice (no `sort`, no `updated_since`).
    var fixedSort: [SortKey]? = nil
    /// The FTS table behind `q`.
    var searchTable: String? = nil
    /// `from`/`to`: a row matches when [start, end] overlaps the range (end may equal start).
    var dateRange: (start: String, end: String)? = nil
    /// Parameters a list takes beyond filters (e.g. the timeline's `kind`), handed to it in `ListQuery.extra`.
    var extraParameters: Set<String> = []

    /// The query parameters this list takes.
    var parameterNames: Set<String> {
        var names: Set<String> = fixedSort == nil ? ["limit", "cursor", "sort", "updated_since"] : ["limit", "cursor"]
        names.formUnion(["format", "download"])
        names.formUnion(filters.map(\.name))
        names.formUnion(extraParameters)
        if searchTable != nil { names.insert("q") }
        if dateRange != nil { names.formUnion(["from", "to"]) }
        return names
    }
}
