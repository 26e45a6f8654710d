import HTTPServer
import SQLite

enum Issues {
    static let categories = ["tariffs", "rare_earths", "fentanyl_precursors", "export_controls", "market_access",
                             "agriculture", "technology", "other"]
    static let statuses = ["open", "in_discussion", "tentative_agreement", "agreed", "stalled", "dropped"]
    static let priorities = ["high", "medium", "low"]
    static let reference = Reference(table: "issues", singular: "issue")

    static let spec = ResourceSpec(
        name: "issues", singular: "issue", table: "issues",
        fields: [
            Field("negotiation_id", .reference(Negotiations.reference), required: true),
            Field("category", .enumeration(categories), required: true),
            Field("title", .text(min: 1, max: 200), required: true),
            Field("description", .text(min: 0, max: 10_000)),
            Field("status", .enumeration(statuses), default: .text("open")),
            Field("priority", .enumeration(priorities), default: .text("medium")),
            Field("positions", .countryTextMap(maxEntries: 50, maxLength: 10_000), default: .text("{}")),
        ],
        list: ListDefinition(
            filters: [
                ListFilter(name: "negotiation_id", kind: .equals(column: "negotiation_id"), values: .id),
                ListFilter(name: "category", kind: .equals(column: "category"), values: .enumeration(categories)),
                ListFilter(name: "status", kind: .equals(column: "status"), values: .enumeration(statuses)),
                ListFilter(name: "priority", kind: .equals(column: "priority"), values: .enumeration(priorities)),
            ],
            // Enumerations sort in their documented order (high before low), through ranks the schema computes.
            sorts: ["priority": "t.priority_rank", "status": "t.status_rank", "updated_at": "t.updated_at"],
            searchTable: "issues_fts"
        ),
        referencedBy: [
            Referrer(table: "issue_updates", column: "issue_id"),
            Referrer(table: "statements", column: "issue_id"),
            Referrer(table: "export_controls", column: "issue_id"),
        ]
    )
}
