import HTTPServer
import SQLite

/// Column values of one record, keyed by column name.
typealias RecordValues = [String: SQLValue]

/// A table that points at a resource; deleting a record it references is refused with 409.
struct Referrer: Sendable {
    /// Also the name under `referenced_by` in the 409.
    let table: String
    let column: String
}

/// A value a list filter accepts.
enum FilterValueKind: Sendable {
    case enumeration([String])
    case country
    case id
}

/// How a list filter narrows the rows; values are OR-ed.
enum FilterKind: Sendable {
    /// `column IN (…)`.
    case equals(column: String)
    /// The JSON array in `column` contains one of the values.
    case jsonArrayContains(column: String)
    /// `id IN (SELECT … WHERE x IN (%VALUES%))`: the SQL holds `%VALUES%` where the placeholders go.
    case subquery(String)
}

/// A documented list filter: a query parameter named after a field.
struct ListFilter: Sendable {
    let name: String
    let kind: FilterKind
    let values: FilterValueKind
}

/// A field computed at read time (e.g. `in_effect_today`).
struct ComputedField: Sendable {
    let name: String
    let write: @Sendable (Row, CalendarDate, inout JSONWriter) -> Void
}

/// Everything the generic store, validator, encoder and routes need to know about one resource.
struct ResourceSpec: Sendable {
    /// Path segment and change-log name, e.g. `tariff-measures`.
    let name: String
    /// For messages: `tariff measure`.
    let singular: String
    let table: String
    let fields: [Field]
    var filters: [ListFilter] = []
    /// Sort names to SQL expressions; `id` is always available.
    var sorts: [String: String] = [:]
    var searchTable: String? = nil
    /// `from`/`to` filters: a record matches when [start, end] overlaps the range (end may equal start).
    var dateRange: (start: String, end: String)? = nil
    var referencedBy: [Referrer] = []
    var computed: [ComputedField] = []
    /// Rules that span fields, checked on the merged record (create and patch).
    var validate: @Sendable (RecordValues) -> [HTTPError.FieldError] = { _ in [] }
    /// Fills server-assigned columns before an insert (e.g. a round's sequence).
    var prepareInsert: (@Sendable (SQLite.Connection, inout RecordValues) throws -> Void)? = nil
    /// Refuses updates that a state machine forbids.
    var checkUpdate: (@Sendable (_ old: RecordValues, _ new: RecordValues) throws -> Void)? = nil

    func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// The fields a client may write.
    var writableFields: [Field] { fields.filter { !$0.readOnly } }

    static let recordColumns = ["id", "created_at", "updated_at", "version"]
}
