import HTTPServer
import SQLite

/// Progress notes on an issue: `/v1/issues/{id}/updates`. A note with a `status` moves its issue in the same transaction.
enum IssueUpdates {
    static let spec = ResourceSpec(
        name: "issue-updates", singular: "issue update", table: "issue_updates",
        fields: [
            Field("issue_id", .reference(Issues.reference), readOnly: true),
            Field("note", .text(min: 1, max: 10_000), required: true),
            Field("occurred_on", .date, required: true),
            Field("round_id", .reference(Rounds.reference)),
            Field("source_id", .reference(Sources.reference)),
            Field("status", .enumeration(Issues.statuses)),
        ],
        sorts: ["occurred_on": "t.occurred_on"]
    )

    static func register(context: APIContext, on router: inout Router) {
        let updates = ResourceRoutes(spec: spec, context: context)
        let issues = ResourceStore(spec: Issues.spec)
        router.add("GET", "/v1/issues/{id}/updates") { request in
            let issueID = try request.id(singular: "issue")
            guard try context.read({ try issues.find($0, id: issueID) }) != nil else { throw APIError.notFound("issue", String(issueID)) }
            return try updates.list(request, extraCondition: ("t.issue_id = ?", [.integer(issueID)]), identity: "issues/\(issueID)/updates")
        }
        router.add("GET", "/v1/issues/{id}/updates/{update_id}") { request in
            let issueID = try request.id(singular: "issue")
            let updateID = try request.id("update_id", singular: "issue update")
            guard let row = try context.read({ try updates.store.find($0, id: updateID) }), row.int("issue_id") == issueID else {
                throw APIError.notFound("issue update", "\(updateID) on issue \(issueID)")
            }
            return updates.recordResponse(row, status: 200, today: context.clock.today())
        }
        router.add("POST", "/v1/issues/{id}/updates") { request in
            let issueID = try request.id(singular: "issue")
            guard try context.read({ try issues.find($0, id: issueID) }) != nil else { throw APIError.notFound("issue", String(issueID)) }
            let members = try RequestBody.object(request)
            return try context.idempotency.run(request, context: context) { recorder in
                var (values, problems) = InputDecoder.decode(members, spec: spec, mode: .create)
                values["issue_id"] = .integer(issueID)
                let write = context.writeContext(request)
                return try context.write { db in
                    let row = try add(db, issueID: issueID, values: values, fieldProblems: problems, write: write)
                    var response = updates.recordResponse(row, status: 201, today: write.today)
                    response.headers.set("Location", "/v1/issues/\(issueID)/updates/\(row.int("id") ?? 0)")
                    try recorder?.record(db, response)
                    return response
                }
            }
        }
        router.add("DELETE", "/v1/issues/{id}/updates/{update_id}") { request in
            let issueID = try request.id(singular: "issue")
            let updateID = try request.id("update_id", singular: "issue update")
            let ifMatch = try updates.precondition(request)
            let write = context.writeContext(request)
            try context.write { db in
                guard let row = try updates.store.find(db, id: updateID), row.int("issue_id") == issueID else {
                    throw APIError.notFound("issue update", "\(updateID) on issue \(issueID)")
                }
                try updates.check(ifMatch, against: row, today: write.today)
                try updates.store.delete(db, id: updateID, old: ResourceStore.values(of: row, spec: spec), context: write)
            }
            return HTTPResponse(status: 204)
        }
    }

    /// Inserts a note (references checked) and applies its status to the issue; runs inside the caller's transaction.
    static func add(_ db: SQLite.Connection, issueID: Int64, values: RecordValues, fieldProblems: [HTTPError.FieldError] = [],
                    write: WriteContext) throws -> Row {
        let issues = ResourceStore(spec: Issues.spec)
        guard let issue = try issues.find(db, id: issueID) else { throw APIError.notFound("issue", String(issueID)) }
        let store = ResourceStore(spec: spec)
        try RecordValidation.check(db, spec: spec, fieldProblems: fieldProblems, values: values)
        let row = try store.insert(db, values, context: write)
        if case .text(let status)? = values["status"], issue.text("status") != status {
            let old = ResourceStore.values(of: issue, spec: Issues.spec)
            var new = old
            new["status"] = .text(status)
            _ = try issues.update(db, id: issueID, old: old, new: new, context: write)
        }
        return row
    }
}
