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
        list: ListDefinition(
            sorts: ["occurred_on": "t.occurred_on"]
        )
    )

    static let subResource = SubResource(spec: spec, parent: Issues.spec.name, demoMember: "updates", hasOwnID: true, derivedMembers: [],
                                         exportAll: { today in ResourceRoutes.exportByID(spec, today: today) }) { writes, transaction, issueID, input in
        _ = try add(writes, transaction, issueID: issueID, input)
    }

    static func registerRoutes(context: APIContext, on router: inout Router) {
        let updates = ResourceRoutes(spec: spec, context: context)
        let issues = ResourceStore(spec: Issues.spec)
        router.add("GET", "/v1/issues/{id}/updates") { request in
            let issueID = try request.id(singular: "issue")
            guard try context.read({ try issues.exists($0, id: issueID) }) else { throw APIError.notFound("issue", String(issueID)) }
            return try updates.list(request, owner: ("issue_id", issueID, CursorScope("issues/\(issueID)/updates")))
        }
        router.add("GET", "/v1/issues/{id}/updates/{update_id}") { request in
            let issueID = try request.id(singular: "issue")
            let updateID = try request.id("update_id", singular: "issue update")
            try request.refuseQuery(of: "a single issue update")
            guard let row = try context.read({ try updates.store.find($0, id: updateID) }), row.int("issue_id") == issueID else {
                throw notFound(updateID, issueID: issueID)
            }
            return updates.recordResponse(row)
        }
        router.add("POST", "/v1/issues/{id}/updates") { request in
            let issueID = try request.id(singular: "issue")
            // In a batch the issue may come from an earlier operation: only the transaction sees it (`add` checks).
            if request.attributes[BatchOperationKey.self] == nil {
                guard try context.read({ try issues.exists($0, id: issueID) }) else { throw APIError.notFound("issue", String(issueID)) }
            }
            let members = try RequestBody.object(request)
            let write = try context.writeContext(request)
            let input = InputDecoder.decode(members, spec: spec, mode: .create)
            let writes = context.writes
            return try context.respondAfterCommit(request, write, knownInvalid: !input.problems.isEmpty) { transaction in
                let row = try add(writes, transaction, issueID: issueID, input)
                return writes.outcome(transaction, row, spec: spec, status: 201,
                                      location: "/v1/issues/\(issueID)/updates/\(row.int("id") ?? 0)")
            }
        }
        router.add("DELETE", "/v1/issues/{id}/updates/{update_id}") { request in
            let issueID = try request.id(singular: "issue")
            let updateID = try request.id("update_id", singular: "issue update")
            let ifMatch = try context.ifMatch(request)
            let writes = context.writes
            return try context.respondAfterCommit(request, try context.writeContext(request)) { transaction in
                try writes.delete(transaction, spec, id: updateID, ifMatch: ifMatch, belongsTo: { $0.int("issue_id") == issueID },
                                  notFound: notFound(updateID, issueID: issueID))
                return WriteOutcome.noContent
            }
        }
    }

    private static func notFound(_ updateID: Int64, issueID: Int64) -> Problem {
        APIError.notFound("issue update", "\(updateID) on issue \(issueID)")
    }

    /// Inserts a note (references checked) and applies its status to the issue, in the same transaction — unless
    /// the note is restored from an export (it keeps its id): the exported issue already carries what it did.
    static func add(_ writes: WriteService, _ transaction: WriteTransaction, issueID: Int64, _ input: RecordInput) throws -> Row {
        let issues = ResourceStore(spec: Issues.spec)
        guard let issue = try issues.find(transaction.db, id: issueID) else { throw APIError.notFound("issue", String(issueID)) }
        var input = input
        input.values["issue_id"] = .integer(issueID)
        let row = try writes.insert(transaction, spec, input)
        if input.stamp.id == nil, case .text(let status)? = input.values["status"], issue.text("status") != status {
            let old = ResourceStore.values(of: issue, spec: Issues.spec)
            var new = old
            new["status"] = .text(status)
            _ = try issues.update(transaction.db, id: issueID, old: old, new: new, context: transaction.context)
        }
        return row
    }
}
