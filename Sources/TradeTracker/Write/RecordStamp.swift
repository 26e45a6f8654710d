import JSON

/// The columns the server assigns on create — `id`, `created_at`, `updated_at`, `version` — as an import may carry
/// them (an export writes them): each one given is kept, each one absent is assigned as on create. The API's own
/// POSTs never carry a stamp; only imports make one.
struct RecordStamp: Sendable, Equatable {
    var id: Int64?
    var createdAt: String?
    var updatedAt: String?
    var version: Int64?

    /// The member names a stamp is read from (`id` only for records that have one).
    static func memberNames(withID: Bool) -> [String] {
        (withID ? ["id"] : []) + ["created_at", "updated_at", "version"]
    }

    /// The stamp in `members` with the problems of its values (pointers under `prefix`). Timestamps are kept in the
    /// stored form (UTC, three fractional digits), so text order stays time order; `updated_at` may not come before
    /// `created_at`.
    static func decode(_ members: [(String, JSONValue)], withID: Bool, prefix: String = "") -> (RecordStamp, [Problem.FieldError]) {
        var stamp = RecordStamp()
        var problems: [Problem.FieldError] = []
        for (name, value) in members {
            let pointer = prefix + "/" + name
            switch name {
            case "id" where withID:
                if let n = value.integerValue, n >= 1 { stamp.id = Int64(n) } else { problems.append(.init(pointer: pointer, message: "must be a positive integer id")) }
            case "version":
                if let n = value.integerValue, n >= 1 { stamp.version = Int64(n) } else { problems.append(.init(pointer: pointer, message: "must be a positive integer")) }
            case "created_at", "updated_at":
                guard let text = value.stringValue, let ms = Timestamp.parse(text) else {
                    problems.append(.init(pointer: pointer, message: "must be an RFC 3339 timestamp (2025-05-12T08:30:00Z)"))
                    continue
                }
                if name == "created_at" { stamp.createdAt = Timestamp.format(epochMilliseconds: ms) } else { stamp.updatedAt = Timestamp.format(epochMilliseconds: ms) }
            default:
                continue
            }
        }
        if let created = stamp.createdAt, let updated = stamp.updatedAt, updated < created {
            problems.append(.init(pointer: prefix + "/updated_at", message: "must not be before created_at"))
        }
        return (stamp, problems)
    }

    /// `created_at`, `updated_at` and `version` for a new row written at `now`: the stamp's where given, the two
    /// timestamps defaulting to each other, then to `now`.
    func columns(now: String) -> (createdAt: String, updatedAt: String, version: Int64) {
        let created = createdAt ?? updatedAt ?? now
        return (created, updatedAt ?? created, version ?? 1)
    }
}
