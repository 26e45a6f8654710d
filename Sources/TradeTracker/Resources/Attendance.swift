import HTTPServer
import SQLite

/// Who attended which round, in which role: `/v1/rounds/{id}/participants` and `/v1/participants/{id}/rounds`.
enum Attendance {
    static let roles = ["lead", "delegate", "observer", "mediator"]
    static let changeLogName = "round-participants"

    /// The body of `POST /v1/rounds/{id}/participants`.
    static let spec = ResourceSpec(
        name: changeLogName, singular: "attendance record", table: "round_participants",
        fields: [
            Field("participant_id", .reference(Participants.reference), required: true),
            Field("role", .enumeration(roles), required: true),
        ]
    )

    /// Leads first, then mediators, delegates and observers.
    private static let roleRank = "CASE rp.role WHEN 'lead' THEN 0 WHEN 'mediator' THEN 1 WHEN 'delegate' THEN 2 ELSE 3 END"
    private static let byRole = [ListQuery.SortKey(name: "role", expression: roleRank, descending: false),
                                 ListQuery.SortKey(name: "participant_id", expression: "rp.participant_id", descending: false)]
    private static let byDate = [ListQuery.SortKey(name: "starts_on", expression: "r.starts_on", descending: false),
                                 ListQuery.SortKey(name: "round_id", expression: "rp.round_id", descending: false)]

    static func register(context: APIContext, on router: inout Router) {
        router.add("GET", "/v1/rounds/{id}/participants") { request in
            let roundID = try request.id(singular: "round")
            let query = try ListQuery.parse(request, spec: spec, signer: context.signer, fixedSort: byRole,
                                            identity: "rounds/\(roundID)/participants")
            return try page(request, query: query, context: context, owner: ("rounds", roundID), sql: """
                SELECT rp.*, p.name, p.country, p.title FROM round_participants rp
                JOIN participants p ON p.id = rp.participant_id WHERE rp.round_id = ?
                """)
        }
        router.add("GET", "/v1/participants/{id}/rounds") { request in
            let participantID = try request.id(singular: "participant")
            let query = try ListQuery.parse(request, spec: spec, signer: context.signer, fixedSort: byDate,
                                            identity: "participants/\(participantID)/rounds")
            return try page(request, query: query, context: context, owner: ("participants", participantID), sql: """
                SELECT rp.*, r.negotiation_id, r.sequence, r.title, r.city, r.country, r.starts_on, r.ends_on, r.status
                FROM round_participants rp JOIN rounds r ON r.id = rp.round_id WHERE rp.participant_id = ?
                """)
        }
        router.add("GET", "/v1/rounds/{id}/participants/{participant_id}") { request in
            let (roundID, participantID) = (try request.id(singular: "round"), try request.id("participant_id", singular: "participant"))
            guard let row = try context.read({ try find($0, roundID: roundID, participantID: participantID) }) else {
                throw APIError.notFound("attendance record", "participant \(participantID) at round \(roundID)")
            }
            return HTTPResponse.json(encode(row))
        }
        router.add("POST", "/v1/rounds/{id}/participants") { request in
            let roundID = try request.id(singular: "round")
            let members = try RequestBody.object(request)
            return try context.idempotency.run(request, context: context) { recorder in
                let (values, problems) = InputDecoder.decode(members, spec: spec, mode: .create)
                let write = context.writeContext(request)
                return try context.write { db in
                    let row = try add(db, roundID: roundID, values: values, fieldProblems: problems, write: write)
                    let body = encode(row)
                    var response = HTTPResponse.json(body, status: 201)
                    response.headers.add("Location", "/v1/rounds/\(roundID)/participants/\(row.int("participant_id") ?? 0)")
                    response.headers.add("ETag", EntityTag.strong(for: body))
                    try recorder?.record(db, response)
                    return response
                }
            }
        }
        router.add("DELETE", "/v1/rounds/{id}/participants/{participant_id}") { request in
            let (roundID, participantID) = (try request.id(singular: "round"), try request.id("participant_id", singular: "participant"))
            let ifMatch = try context.ifMatch(request)
            let write = context.writeContext(request)
            try context.write { db in
                guard let row = try find(db, roundID: roundID, participantID: participantID) else {
                    throw APIError.notFound("attendance record", "participant \(participantID) at round \(roundID)")
                }
                try context.check(ifMatch, against: encode(row))
                try db.run("DELETE FROM round_participants WHERE round_id = ? AND participant_id = ?",
                           [.integer(roundID), .integer(participantID)])
                try ChangeLog.append(db, resource: changeLogName, recordID: roundID, action: .deleted,
                                     changes: changes(row, deleted: true), context: write)
            }
            return HTTPResponse(status: 204)
        }
    }

    private static func find(_ db: SQLite.Connection, roundID: Int64, participantID: Int64) throws -> Row? {
        try db.queryOne("""
            SELECT rp.*, p.name, p.country, p.title FROM round_participants rp
            JOIN participants p ON p.id = rp.participant_id WHERE rp.round_id = ? AND rp.participant_id = ?
            """, [.integer(roundID), .integer(participantID)])
    }

    /// Records that a participant attended a round (inside the caller's transaction); 409 when already recorded.
    static func add(_ db: SQLite.Connection, roundID: Int64, values: RecordValues, fieldProblems: [HTTPError.FieldError] = [],
                    write: WriteContext) throws -> Row {
        guard try db.queryOne("SELECT 1 FROM rounds WHERE id = ?", [.integer(roundID)]) != nil else {
            throw APIError.notFound("round", String(roundID))
        }
        try RecordValidation.check(db, spec: spec, fieldProblems: fieldProblems, values: values)
        let participantID = values["participant_id"] ?? .null
        if try db.queryOne("SELECT 1 FROM round_participants WHERE round_id = ? AND participant_id = ?",
                           [.integer(roundID), participantID]) != nil {
            throw APIError.conflict("duplicate", "this participant is already recorded at round \(roundID)")
        }
        try db.run("""
            INSERT INTO round_participants (round_id, participant_id, role, created_at, updated_at, version)
            VALUES (?, ?, ?, ?, ?, 1)
            """, [.integer(roundID), participantID, values["role"] ?? .null, .text(write.now), .text(write.now)])
        guard case .integer(let pid) = participantID, let row = try find(db, roundID: roundID, participantID: pid) else {
            throw SQLiteError(code: 1, message: "attendance row vanished")
        }
        try ChangeLog.append(db, resource: changeLogName, recordID: roundID, action: .created,
                             changes: changes(row, deleted: false), context: write)
        return row
    }

    private static func changes(_ row: Row, deleted: Bool) -> [(String, before: JSONValue, after: JSONValue)] {
        ["round_id", "participant_id", "role"].map { name in
            let value: JSONValue = name == "role" ? .string(row.text(name) ?? "") : .int(row.int(name) ?? 0)
            return deleted ? (name, before: value, after: .null) : (name, before: .null, after: value)
        }
    }

    private static func page(_ request: HTTPRequest, query: ListQuery, context: APIContext, owner: (table: String, id: Int64),
                             sql: String) throws -> HTTPResponse {
        let rows: [Row] = try context.read { db in
            guard try db.queryOne("SELECT 1 FROM \(owner.table) WHERE id = ?", [.integer(owner.id)]) != nil else {
                throw APIError.notFound(owner.table == "rounds" ? "round" : "participant", String(owner.id))
            }
            var text = sql
            var bindings: [SQLValue] = [.integer(owner.id)]
            if let after = query.after {
                let (condition, values) = ResourceStore.keysetCondition(query.sort, after: after)
                text += " AND " + condition
                bindings += values
            }
            text += " ORDER BY " + query.sort.map(\.expression).joined(separator: ", ") + " LIMIT \(query.limit + 1)"
            return try db.query(text, bindings)
        }
        let pageRows = Array(rows.prefix(query.limit))
        let nextKeys: [SQLValue]? = rows.count > query.limit ? pageRows.last.map { last in
            owner.table == "rounds"
                ? [.integer(rank(last.text("role"))), last["participant_id"] ?? .null]
                : [last["starts_on"] ?? .null, last["round_id"] ?? .null]
        } : nil
        return ListPage.response(request: request, query: query, nextKeys: nextKeys, signer: context.signer) { json in
            for row in pageRows { json.raw(encode(row)) }
        }
    }

    private static func rank(_ role: String?) -> Int64 {
        switch role {
        case "lead": return 0
        case "mediator": return 1
        case "delegate": return 2
        default: return 3
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
