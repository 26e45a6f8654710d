import HTTPServer
import SQLite

/// Every rule on one record at once — field problems, cross-field rules, references — so one 422 lists them all.
enum RecordValidation {
    /// Stands for a field that was sent but failed its own check: present for rules like "one of a or b",
    /// unusable for rules that compare values.
    static let invalidMarker = SQLValue.blob([])

    /// Throws one 422 with `fieldProblems` plus what cross-field rules and reference checks find in `values`
    /// (the whole record: create values, or the stored record merged with a patch). Reference checks cover the
    /// columns in `referencesIn` (all when nil).
    static func check(_ transaction: WriteTransaction, spec: ResourceSpec, fieldProblems: [Problem.FieldError], values: RecordValues,
                      referencesIn: Set<String>? = nil, selfID: Int64? = nil) throws {
        let reported = Set(fieldProblems.map { column(of: $0.pointer) })
        var marked = values
        for field in spec.fields where reported.contains(field.name) { marked[field.column] = invalidMarker }
        var problems = fieldProblems
        problems += spec.validate(marked).filter { !reported.contains(column(of: $0.pointer)) }
        problems += try ResourceStore(spec: spec).missingReferences(transaction.db, marked, only: referencesIn)
            .filter { !reported.contains(column(of: $0.pointer)) }
        if let checkStored = spec.checkStored {
            problems += try checkStored(transaction, marked, selfID).filter { !reported.contains(column(of: $0.pointer)) }
        }
        if !problems.isEmpty { throw APIError.validation(problems) }
    }

    /// The top-level member a JSON pointer names (`/parties/1` → `parties`).
    private static func column(of pointer: String) -> String {
        String(pointer.dropFirst().prefix { $0 != "/" })
    }
}
