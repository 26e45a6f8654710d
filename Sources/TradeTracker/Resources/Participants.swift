import HTTPServer
import SQLite

enum Participants {
    static let reference = Reference(table: "participants", singular: "participant")

    static let spec = ResourceSpec(
        name: "participants", singular: "participant", table: "participants",
        fields: [
            Field("name", .text(min: 1, max: 200), required: true),
            Field("aliases", .stringList(maxItems: 50, maxLength: 200), default: .text("[]")),
            Field("country", .country, required: true),
            Field("title", .text(min: 0, max: 200)),
            Field("organization", .text(min: 0, max: 200)),
        ],
        list: ListDefinition(
            filters: [
                ListFilter(name: "country", kind: .equals(column: "country"), values: .country),
                ListFilter(name: "round_id",
                           kind: .subquery("t.id IN (SELECT participant_id FROM round_participants WHERE round_id IN (%VALUES%))"),
                           values: .id),
            ],
            sorts: ["name": "t.name", "updated_at": "t.updated_at"],
            searchTable: "participants_fts"
        ),
        referencedBy: [
            Referrer(table: "round_participants", column: "participant_id"),
            Referrer(table: "statements", column: "participant_id"),
        ]
    )
}
