import Foundation
import HTTPServer
import JSON
import SQLite

/// Loads the demo data file into an empty database through the write service, with the same validation as the API.
/// The file has one section per catalogue resource, named after its table and loaded in catalogue order; items may
/// carry a `key`, refer to earlier items as `"@key"` in `*_id` fields, and nest sub-resource items (a round's
/// `participants`, an issue's `updates`).
enum DemoData {
    /// True when it loaded; false when the database already holds data (nothing is changed then).
    static func load(file path: String, writes: WriteService, clock: TimeSource) throws -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { throw StartupError("cannot read the demo file \(path)") }
        let document: JSONValue
        do {
            document = try JSONParser.parse(Array(data))
        } catch {
            throw StartupError("the demo file \(path) is not valid JSON: \(error)")
        }
        let context = WriteContext(actor: "demo", requestID: nil, now: clock.now(), today: clock.today())
        do {
            return try writes.perform(context) { transaction -> Bool in
                if try holdsData(transaction.db) { return false }
                var ids: [String: Int64] = [:]
                for spec in ResourceCatalogue.resources {
                    let nested = ResourceCatalogue.subResources.filter { $0.parent == spec.name }
                    let loaderOnly = Set(["key"] + nested.map(\.demoMember))
                    for (index, item) in (document[spec.table]?.arrayValue ?? []).enumerated() {
                        let place = "\(spec.table)[\(index)]"
                        let input = InputDecoder.decode(try resolve(item, ids: ids, place: place), spec: spec, mode: .create, ignoring: loaderOnly)
                        try expectValid(input.problems, place: place)
                        let row = try wrap(place) { try writes.insert(transaction, spec, input) }
                        let id = row.int("id") ?? 0
                        if let key = item["key"]?.stringValue { ids["@" + key] = id }
                        for sub in nested {
                            for (i, child) in (item[sub.demoMember]?.arrayValue ?? []).enumerated() {
                                let childPlace = "\(place).\(sub.demoMember)[\(i)]"
                                let childInput = InputDecoder.decode(try resolve(child, ids: ids, place: childPlace), spec: sub.spec, mode: .create)
                                try expectValid(childInput.problems, place: childPlace)
                                try wrap(childPlace) { try sub.add(writes, transaction, id, childInput) }
                            }
                        }
                    }
                }
                return true
            }
        } catch let error as Problem {
            throw StartupError("loading the demo data failed: \(error.detail ?? error.title)")
        }
    }

    private static func holdsData(_ db: some SQLExecutor) throws -> Bool {
        try db.scalar("""
            SELECT EXISTS (SELECT 1 FROM change_log) OR EXISTS (SELECT 1 FROM negotiations)
                OR EXISTS (SELECT 1 FROM participants) OR EXISTS (SELECT 1 FROM sources)
            """) == .integer(1)
    }

    /// The item's members with `"@key"` references replaced by the ids loaded so far: in `*_id` fields, and in the
    /// `id` of objects inside arrays (`responds_to: [{"type": "tariff-measures", "id": "@key"}]`).
    private static func resolve(_ item: JSONValue, ids: [String: Int64], place: String) throws -> [(String, JSONValue)] {
        guard let members = item.objectValue else { throw StartupError("demo data \(place) is not an object") }
        func reference(_ value: JSONValue, _ name: String) throws -> JSONValue {
            guard let text = value.stringValue, text.hasPrefix("@") else { return value }
            guard let id = ids[text] else { throw StartupError("demo data \(place).\(name) refers to unknown key \(text)") }
            return .int(id)
        }
        return try members.map { name, value in
            if name.hasSuffix("_id") { return (name, try reference(value, name)) }
            guard case .array(let elements) = value else { return (name, value) }
            return (name, .array(try elements.map { element in
                guard case .object(let inner) = element else { return element }
                return .object(try inner.map { key, member in (key, key == "id" ? try reference(member, "\(name).id") : member) })
            }))
        }
    }

    private static func expectValid(_ problems: [Problem.FieldError], place: String) throws {
        guard problems.isEmpty else {
            throw StartupError("demo data \(place) is invalid: " + problems.map { "\($0.pointer) \($0.message)" }.joined(separator: "; "))
        }
    }

    private static func wrap<T>(_ place: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as Problem {
            let details = error.errors.map { "\($0.pointer) \($0.message)" }.joined(separator: "; ")
            throw StartupError("demo data \(place) was refused: \(error.detail ?? error.title) \(details)")
        }
    }
}
