import JSON
import SQLite

/// Column values of one record, keyed by column name.
typealias RecordValues = [String: SQLValue]

/// A table that points at a resource; deleting a record it references is refused with 409.
struct Referrer: Sendable {
    /// Its resource's name is the name under `referenced_by` in the 409.
    let table: String
    /// The referring column, for a plain foreign key.
    let column: String?
    /// Whether rows refer through `responds_to` (a JSON array of `{type, id}`) rather than `column`.
    private let respondsTo: Bool
    let bindings: [SQLValue]

    init(table: String, column: String) {
        self.table = table
        self.column = column
        respondsTo = false
        bindings = []
    }

    private init(respondsToIn table: String, bindings: [SQLValue]) {
        self.table = table
        column = nil
        respondsTo = true
        self.bindings = bindings
    }

    /// The condition on a row of `table` that it refers to the record: `?` for the record's id, after `bindings`.
    func condition(_ dialect: SQLDialect) -> String {
        guard respondsTo else { return "\(column ?? "id") = ?" }
        return "EXISTS (SELECT 1 FROM \(Referrer.respondsToCondition(of: "responds_to", dialect: dialect)))"
    }

    /// `FROM`-item and condition over the `responds_to` array `expression`: an element names the bound type and id.
    static func respondsToCondition(of expression: String, dialect: SQLDialect) -> String {
        "\(dialect.jsonArrayItems(expression, as: "r")) WHERE r.value ->> 'type' = ? AND \(dialect.integer("r.value ->> 'id'")) = ?"
    }

    /// Measures of `table` whose `responds_to` names a record of `type`.
    static func respondsTo(table: String, type: String) -> Referrer {
        Referrer(respondsToIn: table, bindings: [.text(type)])
    }
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
    /// Filters, sorts, search and date range of its list.
    var list = ListDefinition()
    var referencedBy: [Referrer] = []
    var computed: [ComputedField] = []
    /// Rules that span fields, checked on the merged record (create and patch).
    var validate: @Sendable (RecordValues) -> [Problem.FieldError] = { _ in [] }
    /// Rules that need stored data beyond plain references (e.g. `responds_to` links), on the merged record; the
    /// record's own id on an update (or an import that keeps it), nil on create.
    var checkStored: (@Sendable (WriteTransaction, RecordValues, _ selfID: Int64?) throws -> [Problem.FieldError])? = nil
    /// Fills server-assigned columns before an insert (e.g. a round's sequence).
    var prepareInsert: (@Sendable (any SQLExecutor, inout RecordValues) throws -> Void)? = nil
    /// Refuses updates that a state machine forbids.
    var checkUpdate: (@Sendable (_ old: RecordValues, _ new: RecordValues) throws -> Void)? = nil

    func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// The fields a client may write.
    var writableFields: [Field] { fields.filter { !$0.readOnly } }

    static let recordColumns = ["id", "created_at", "updated_at", "version"]
}
