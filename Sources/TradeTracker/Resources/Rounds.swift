import JSON
import HTTPServer
import SQLite

enum Rounds {
    static let statuses = ["scheduled", "in_progress", "postponed", "suspended", "concluded", "cancelled"]

    /// The state machine of API.md §2: where a round may go from each status.
    static let transitions: [String: [String]] = [
        "scheduled": ["in_progress", "postponed", "cancelled"],
        "postponed": ["scheduled", "cancelled"],
        "in_progress": ["concluded", "suspended"],
        "suspended": ["in_progress", "concluded"],
        "concluded": [],
        "cancelled": [],
    ]

    static func canMove(from: String, to: String) -> Bool {
        from == to || (transitions[from] ?? []).contains(to)
    }

    static let reference = Reference(table: "rounds", singular: "round")

    static let spec = ResourceSpec(
        name: "rounds", singular: "round", table: "rounds",
        fields: [
            Field("negotiation_id", .reference(Negotiations.reference), required: true),
            Field("sequence", .integer, readOnly: true),
            Field("title", .text(min: 1, max: 200), required: true),
            Field("city", .text(min: 1, max: 200), required: true),
            Field("country", .country, required: true),
            Field("starts_on", .date, required: true),
            Field("ends_on", .date, required: true),
            Field("status", .enumeration(statuses), default: .text("scheduled")),
            Field("summary", .text(min: 0, max: 10_000)),
            Field("outcome", .text(min: 0, max: 10_000)),
            Field("source_id", .reference(Sources.reference)),
        ],
        list: ListDefinition(
            filters: [
                ListFilter(name: "negotiation_id", kind: .equals(column: "negotiation_id"), values: .id),
                ListFilter(name: "status", kind: .equals(column: "status"), values: .enumeration(statuses)),
                ListFilter(name: "country", kind: .equals(column: "country"), values: .country),
            ],
            sorts: ["starts_on": "t.starts_on", "sequence": "t.sequence", "updated_at": "t.updated_at"],
            searchTable: "rounds_fts",
            dateRange: (start: "starts_on", end: "ends_on")
        ),
        referencedBy: [
            Referrer(table: "round_participants", column: "round_id"),
            Referrer(table: "issue_updates", column: "round_id"),
            Referrer(table: "statements", column: "round_id"),
        ],
        validate: { values in
            DateOrder.check(values, first: "starts_on", then: "ends_on", strictly: false)
        },
        prepareInsert: { db, values in
            // An import keeps the sequence it was exported with (the API never sets one: the field is read-only).
            if let given = values["sequence"], given != .null {
                if try db.queryOne("SELECT 1 FROM rounds WHERE negotiation_id = ? AND sequence = ?", [values["negotiation_id"] ?? .null, given]) != nil {
                    let number = if case .integer(let n) = given { String(n) } else { "?" }
                    throw APIError.duplicate("the negotiation already has a round with sequence \(number)", pointer: "/sequence")
                }
                return
            }
            // Sequence numbers are 1, 2, 3 … within a negotiation, assigned inside the write transaction.
            let next = try db.scalar("SELECT COALESCE(MAX(sequence), 0) + 1 FROM rounds WHERE negotiation_id = ?",
                                     [values["negotiation_id"] ?? .null])
            values["sequence"] = next ?? .integer(1)
        },
        checkUpdate: { old, new in
            if old["negotiation_id"] != new["negotiation_id"] {
                throw APIError.validation([.init(pointer: "/negotiation_id",
                                                 message: "cannot be changed; create the round in the other negotiation")])
            }
            guard case .text(let from)? = old["status"], case .text(let to)? = new["status"] else { return }
            guard canMove(from: from, to: to) else {
                let allowed = transitions[from] ?? []
                let moves = allowed.isEmpty ? "none: \(from) is final" : allowed.joined(separator: ", ")
                throw APIError.conflict("invalid_transition", "\(English.withArticle(from)) round cannot become \(to); allowed moves: \(moves)",
                                        extensions: [("allowed_transitions", .array(allowed.map(JSONValue.string)))])
            }
        }
    )
}
