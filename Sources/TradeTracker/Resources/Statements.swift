import HTTPServer
import SQLite

enum Statements {
    static let spec = ResourceSpec(
        name: "statements", singular: "statement", table: "statements",
        fields: [
            Field("participant_id", .reference(Participants.reference)),
            Field("speaker", .text(min: 1, max: 200)),
            Field("said_on", .date, required: true),
            Field("text", .text(min: 1, max: 10_000), required: true),
            Field("context", .text(min: 0, max: 10_000)),
            Field("negotiation_id", .reference(Negotiations.reference)),
            Field("round_id", .reference(Rounds.reference)),
            Field("issue_id", .reference(Issues.reference)),
            Field("source_id", .reference(Sources.reference)),
        ],
        list: ListDefinition(
            filters: [
                ListFilter(name: "participant_id", kind: .equals(column: "participant_id"), values: .id),
                ListFilter(name: "negotiation_id", kind: .equals(column: "negotiation_id"), values: .id),
                ListFilter(name: "issue_id", kind: .equals(column: "issue_id"), values: .id),
            ],
            sorts: ["said_on": "t.said_on", "updated_at": "t.updated_at"],
            searchTable: "statements_fts",
            dateRange: (start: "said_on", end: "said_on")
        ),
        validate: { values in
            let hasParticipant = (values["participant_id"] ?? .null) != .null
            let hasSpeaker = (values["speaker"] ?? .null) != .null
            if hasParticipant && hasSpeaker {
                return [.init(pointer: "/speaker", message: "give participant_id or speaker, not both")]
            }
            if !hasParticipant && !hasSpeaker {
                return [.init(pointer: "/participant_id", message: "is required unless speaker names someone who is not tracked")]
            }
            return []
        }
    )
}
