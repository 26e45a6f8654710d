import HTTPServer
import SQLite

enum Sources {
    static let reference = Reference(table: "sources", singular: "source")

    static let spec = ResourceSpec(
        name: "sources", singular: "source", table: "sources",
        fields: [
            Field("url", .url),
            Field("title", .text(min: 1, max: 500), required: true),
            Field("publisher", .text(min: 0, max: 200)),
            Field("published_on", .date),
        ],
        list: ListDefinition(
            sorts: ["published_on": "COALESCE(t.published_on, '')", "title": "t.title", "updated_at": "t.updated_at"],
            searchTable: "sources_fts"
        ),
        referencedBy: [
            Referrer(table: "issue_updates", column: "source_id"),
            Referrer(table: "tariff_measures", column: "source_id"),
            Referrer(table: "statements", column: "source_id"),
            Referrer(table: "export_controls", column: "source_id"),
            Referrer(table: "rounds", column: "source_id"),
        ]
    )
}
