import HTTPServer
import JSON
import SQLite

/// Who attended which round, in which role: `/v1/rounds/{id}/participants` and `/v1/participants/{id}/rounds`.
enum Attendance {
    static let roles = ["lead", "delegate", "observer", "mediator"]

    /// The body of `POST /v1/rounds/{id}/participants`; `round-participants` in the change log.
    static let spec = ResourceSpec(
        name: "round-participants", singular: "attendance record", table: "round_participants",
        fields: [
            Field("participant_id", .reference(Participants.reference), required: true),
            Field("role", .enumeration(roles), required: true),
        ]
    )

    static let subResource = SubResource(spec: spec, parent: Rounds.spec.name, demoMember: "participants", hasOwnID: false,
                                         derivedMembers: ["participant"], exportAll: { _ in exportAll() }) { _, transaction, roundID, input in
        _ = try add(transaction, roundID: roundID, input)
    }

    /// The columns of a round's attendance list and its export.
    private static let roundListColumns = ["round_id", "participant_id", "role", "participant", "created_at", "updated_at", "version"]

    /// Every attendance record, by round and then as a round lists them, the same bytes as each round's export.
    static func exportAll() -> ListExport {
        let keyset = KeysetQuery(columns: participantColumns, from: withParticipant,
                                 sort: [SortKey("round_id", "rp.round_id")] + (byRole.fixedSort ?? []), limit: ListExport.pageSize)
        return ListExport(name: spec.name, columns: roundListColumns, keyset: keyset, json: { encode($0) })
    }

    /// Leads first, then mediators, delegates and observers.
    private static let roleRank = "CASE rp.role WHEN 'lead' THEN 0 WHEN 'mediator' THEN 1 WHEN 'delegate' THEN 2 ELSE 3 END"
    private static let byRole = ListDefinition(fixedSort: [SortKey("role", roleRank), SortKey("participant_id", "rp.participant_id")])
    private static let byDate = ListDefinition(fixedSort: [SortKey("starts_on", "r.starts_on"), SortKey("round_id", "rp.round_id")])

    private static let withParticipant = "round_participants rp JOIN participants p ON p.id = rp.participant_id"
    private static let participantColumns = "rp.*, p.name, p.country, p.title"

    static func registerRoutes(context: APIContext, on router: inout Router) {
        router.add("GET", "/v1/rounds/{id}/participants") { request in
            let roundID = try request.id(singular: "round")
            let query = try ListQuery.parse(request, byRole, scope: CursorScope("rounds/\(roundID)/participants"), signer: context.signer)
            var keyset = KeysetQuery(columns: participantColumns, from: withParticipant, sort: query.sort, after: query.after, limit: query.limit)
            keyset.require("rp.round_id = ?", [.integer(roundID)])
            return try page(request, query: query, keyset: keyset, context: context, owner: Rounds.spec, ownerID: roundID,
                            columns: roundListColumns)
        }
        router.add("GET", "/v1/participants/{id}/rounds") { request in
            let participantID = try request.id(singular: "participant")
            let query = try ListQuery.parse(request, byDate, scope: CursorScope("participants/\(participantID)/rounds"), signer: context.signer)
            var keyset = KeysetQuery(
                columns: "rp.*, r.negotiation_id, r.sequence, r.title, r.city, r.country, r.starts_on, r.ends_on, r.status",
                from: "round_participants rp JOIN rounds r ON r.id = rp.round_id", sort: query.sort, after: query.after, limit: query.limit)
            keyset.require("rp.participant_id = ?", [.integer(participantID)])
            return try page(request, query: query, keyset: keyset, context: context, owner: Participants.spec, ownerID: participantID,
                            columns: ["round_id", "participant_id", "role", "round", "created_at", "updated_at", "version"])
        }
        router.add("GET", "/v1/rounds/{id}/participants/{participant_id}") { request in
            let (roundID, participantID) = (try request.id(singular: "round"), try request.id("participant_id", singular: "participant"))
            try request.refuseQuery(of: "a single attendance")
            guard let row = try context.read({ try find($0, roundID: roundID, participantID: participantID) }) else {
                throw notFound(roundID: roundID, participantID: participantID)
            }
            return HTTPResponse.json(encode(row))
        }
        router.add("POST", "/v1/rounds/{id}/participants") { request in
            let roundID = try request.id(singular: "round")
            let members = try RequestBody.object(request)
            let write = try context.writeContext(request)
            let input = InputDecoder.decode(members, spec: spec, mode: .create)
            return try context.respondAfterCommit(request, write, knownInvalid: !input.problems.isEmpty) { transaction in
                let row = try add(transaction, roundID: roundID, input)
                return .record(encode(row), status: 201, location: "/v1/rounds/\(roundID)/participants/\(row.int("participant_id") ?? 0)")
            }
        }
        router.add("DELETE", "/v1/rounds/{id}/participants/{participant_id}") { request in
            let (roundID, participantID) = (try request.id(singular: "round"), try request.id("participant_id", singular: "participant"))
            let ifMatch = try context.ifMatch(request)
            return try context.respondAfterCommit(request, try context.writeContext(request)) { transaction in
                try remove(transaction, roundID: roundID, participantID: participantID, ifMatch: ifMatch)
                return WriteOutcome.noContent
            }
        }
    }

    private static func notFound(roundID: Int64, participantID: Int64) -> Problem {
        APIError.notFound("attendance record", "participant \(participantID) at round \(roundID)")
    }

    private static func find(_ db: some SQLExecutor, roundID: Int64, participantID: Int64) throws -> Row? {
        try db.queryOne("SELECT \(participantColumns) FROM \(withParticipant) WHERE rp.round_id = ? AND rp.participant_id = ?",
                        [.integer(roundID), .integer(participantID)])
    }

    /// Records that a participant attended a round; 409 when already recorded. An import's stamp keeps the record's
    /// timestamps and version.
    static func add(_ transaction: WriteTransaction, roundID: Int64, _ input: RecordInput) throws -> Row {
        let db = transaction.db
        guard try ResourceStore(spec: Rounds.spec).exists(db, id: roundID) else { throw APIError.notFound("round", String(roundID)) }
        try RecordValidation.check(transaction, spec: spec, fieldProblems: input.problems, values: input.values)
        let participantID = input.values["participant_id"] ?? .null
        if try db.queryOne("SELECT 1 FROM round_participants WHERE round_id = ? AND participant_id = ?",
                           [.integer(roundID), participantID]) != nil {
            throw APIError.conflict("duplicate", "this participant is already recorded at round \(roundID)")
        }
        let (createdAt, updatedAt, version) = input.stamp.columns(now: transaction.context.now)
        try db.run("""
            INSERT INTO round_participants (round_id, participant_id, role, created_at, updated_at, version)
            VALUES (?, ?, ?, ?, ?, ?)
            """, [.integer(roundID), participantID, input.values["role"] ?? .null, .text(createdAt), .text(updatedAt), .integer(version)])
        guard case .integer(let pid) = participantID, let row = try find(db, roundID: roundID, participantID: pid) else {
            throw ResourceStoreError(message: "attendance row vanished")
        }
        try ChangeLog.append(db, resource: spec.name, recordID: roundID, action: .created,
                             changes: changes(row, deleted: false), context: transaction.context)
        return row
    }

    static func remove(_ transaction: WriteTransaction, roundID: Int64, participantID: Int64, ifMatch: String?) throws {
        let db = transaction.db
        guard let row = try find(db, roundID: roundID, participantID: participantID) else {
            throw notFound(roundID: roundID, participantID: participantID)
        }
        try Preconditions.check(ifMatch, against: encode(row))
        try db.run("DELETE FROM round_participants WHERE round_id = ? AND participant_id = ?", [.integer(roundID), .integer(participantID)])
        try ChangeLog.append(db, resource: spec.name, recordID: roundID, action: .deleted,
                             changes: changes(row, deleted: true), context: transaction.context)
    }

    /// Attendance has no id of its own: the change log's record_id is the round's, and the changes carry the pair.
    private static func changes(_ row: Row, deleted: Bool) -> [(String, before: JSONValue, after: JSONValue)] {
        ["round_id", "participant_id", "role"].map { name in
            let value: JSONValue = name == "role" ? .string(row.text(name) ?? "") : .int(row.int(name) ?? 0)
            return deleted ? (name, before: value, after: .null) : (name, before: .null, after: value)
        }
    }

    private static func page(_ request: HTTPRequest, query: ListQuery, keyset: KeysetQuery, context: APIContext,
                             owner: ResourceSpec, ownerID: Int64, columns: [String]) throws -> HTTPResponse {
        let format = try ExportFormat.requested(request, format: query.format)
        let page = try context.read { db in
            guard try ResourceStore(spec: owner).exists(db, id: ownerID) else { throw APIError.notFound(owner.singular, String(ownerID)) }
            return format == nil ? try keyset.fetch(db) : KeysetPage(rows: [], nextKeys: nil)
        }
        if let format {
            return try ListExport(name: spec.name, columns: columns, keyset: keyset, json: { encode($0) })
                .response(request, query: query, format: format, context: context)
        }
        return ListPage.response(request: request, query: query, nextKeys: page.nextKeys, signer: context.signer) { json in
            for row in page.rows { json.raw(encode(row)) }
        }
    }

    /// An attendance record with a summary of the participant or of the round, whichever the row joined.
    static func encode(_ row: Row) -> [UInt8] {
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.member("round_id", row.int("round_id"))
        json.member("participant_id", row.int("participant_id"))
        json.member("role", row.text("role"))
        if row.hasColumn("name") {
            json.key("participant")
            json.beginObject()
            json.member("id", row.int("participant_id"))
            json.member("name", row.text("name"))
            json.member("country", row.text("country"))
            json.member("title", row.text("title"))
            json.endObject()
        } else {
            json.key("round")
            json.beginObject()
            json.member("id", row.int("round_id"))
            json.member("negotiation_id", row.int("negotiation_id"))
            json.member("sequence", row.int("sequence"))
            for name in ["title", "city", "country", "starts_on", "ends_on", "status"] { json.member(name, row.text(name)) }
            json.endObject()
        }
        json.member("created_at", row.text("created_at"))
        json.member("updated_at", row.text("updated_at"))
        json.member("version", row.int("version"))
        json.endObject()
        return json.bytes
    }
}
