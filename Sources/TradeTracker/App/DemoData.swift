import Foundation
import HTTPServer
import SQLite

/// Loads the demo data file into an empty database through the same validation and store code as the API.
enum DemoData {
    /// The sections of the file in load order, with the loader-only members each item may carry.
    private static let sections: [(name: String, spec: ResourceSpec, loaderOnly: Set<String>)] = [
        ("sources", Sources.spec, ["key"]),
        ("negotiations", Negotiations.spec, ["key"]),
        ("participants", Participants.spec, ["key"]),
        ("rounds", Rounds.spec, ["key", "participants"]),
        ("issues", Issues.spec, ["key", "updates"]),
        ("tariff_measures", TariffMeasures.spec, ["key"]),
        ("statements", Statements.spec, ["key"]),
    ]

    /// True when it loaded; false when the database already holds data (nothing is changed then).
    static func load(file path: String, context: APIContext) throws -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { throw StartupError("cannot read the demo file \(path)") }
        let document: JSONValue
        do {
            document = try JSONParser.parse(Array(data))
        } catch {
            throw StartupError("the demo file \(path) is not valid JSON: \(error)")
        }
        let write = WriteContext(actor: "demo", requestID: nil, now: context.clock.now(), today: context.clock.today())
        do {
            return try context.pool.write { db -> Bool in
                let used = try db.scalar("""
                    SELECT EXISTS (SELECT 1 FROM change_log) OR EXISTS (SELECT 1 FROM negotiations)
                        OR EXISTS (SELECT 1 FROM participants) OR EXISTS (SELECT 1 FROM sources)
                    """)
                if used == .integer(1) { return false }
                var ids: [String: Int64] = [:]
                for section in sections {
                    for (index, item) in (document[section.name]?.arrayValue ?? []).enumerated() {
                        let place = "\(section.name)[\(index)]"
                        let members = try resolve(item, ids: ids, place: place)
                        let routes = ResourceRoutes(spec: section.spec, context: context)
                        let (values, problems) = InputDecoder.decode(members, spec: section.spec, mode: .create, ignoring: section.loaderOnly)
                        try expectValid(problems, place: place)
                        let row = try wrap(place) { try routes.insertRecord(db, values, write: write) }
                        let id = row.int("id") ?? 0
                        if let key = item["key"]?.stringValue { ids["@" + key] = id }
                        for (i, attendance) in (item["participants"]?.arrayValue ?? []).enumerated() {
                            let where_ = "\(place).participants[\(i)]"
                            let decoded = InputDecoder.decode(try resolve(attendance, ids: ids, place: where_), spec: Attendance.spec, mode: .create)
                            try expectValid(decoded.problems, place: where_)
                            _ = try wrap(where_) { try Attendance.add(db, roundID: id, values: decoded.values, write: write) }
                        }
                        for (i, update) in (item["updates"]?.arrayValue ?? []).enumerated() {
                            let where_ = "\(place).updates[\(i)]"
                            var decoded = InputDecoder.decode(try resolve(update, ids: ids, place: where_), spec: IssueUpdates.spec, mode: .create)
                            decoded.values["issue_id"] = .integer(id)
                            try expectValid(decoded.problems, place: where_)
                            _ = try wrap(where_) { try IssueUpdates.add(db, issueID: id, values: decoded.values, write: write) }
                        }
                    }
                }
                return true
            }
        } catch let error as SQLiteError {
            throw StartupError("loading the demo data failed: \(error.message)")
        }
    }

    /// The item's members with `"@key"` references in `*_id` fields replaced by the ids loaded so far.
    private static func resolve(_ item: JSONValue, ids: [String: Int64], place: String) throws -> [(String, JSONValue)] {
        guard let members = item.objectValue else { throw StartupError("demo data \(place) is not an object") }
        return try members.map { name, value in
            guard name.hasSuffix("_id"), let text = value.stringValue, text.hasPrefix("@") else { return (name, value) }
            guard let id = ids[text] else { throw StartupError("demo data \(place).\(name) refers to unknown key \(text)") }
            return (name, .int(id))
        }
    }

    private static func expectValid(_ problems: [HTTPError.FieldError], place: String) throws {
        guard problems.isEmpty else {
            throw StartupError("demo data \(place) is invalid: " + problems.map { "\($0.pointer) \($0.message)" }.joined(separator: "; "))
        }
    }

    private static func wrap<T>(_ place: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HTTPError {
            let details = error.errors.map { "\($0.pointer) \($0.message)" }.joined(separator: "; ")
            throw StartupError("demo data \(place) was refused: \(error.detail ?? error.title) \(details)")
        }
    }
}
