import HTTPServer
import SQLite

/// Validates a request body against a resource's fields: unknown and read-only fields, types, required fields.
/// Every problem of the body is collected, so one 422 lists them all.
enum InputDecoder {
    enum Mode { case create, patch }

    /// The column values the body sets (with defaults on create) and the problems found.
    static func decode(_ members: [(String, JSONValue)], spec: ResourceSpec, mode: Mode,
                       ignoring extraNames: Set<String> = []) -> (values: RecordValues, problems: [HTTPError.FieldError]) {
        let decoded = decodeWithObjectPatches(members, spec: spec, mode: mode, ignoring: extraNames)
        return (decoded.values, decoded.problems)
    }

    /// Like `decode`, also returning the object-valued members of a merge patch, by column, still to be merged.
    static func decodeWithObjectPatches(_ members: [(String, JSONValue)], spec: ResourceSpec, mode: Mode, ignoring extraNames: Set<String> = [])
        -> (values: RecordValues, problems: [HTTPError.FieldError], objectPatches: [String: [(String, JSONValue)]]) {
        var objectPatches: [String: [(String, JSONValue)]] = [:]
        var values: RecordValues = [:]
        var problems: [HTTPError.FieldError] = []
        let computedNames = Set(spec.computed.map(\.name))
        for (name, value) in members where !extraNames.contains(name) {
            let pointer = "/" + JSONPointer.escape(name)
            guard let field = spec.field(named: name) else {
                if ResourceSpec.recordColumns.contains(name) || computedNames.contains(name) {
                    problems.append(.init(pointer: pointer, message: "is read-only"))
                } else {
                    problems.append(.init(pointer: pointer, message: "is not a field of a \(spec.singular)"))
                }
                continue
            }
            if field.readOnly {
                problems.append(.init(pointer: pointer, message: "is read-only"))
                continue
            }
            // RFC 7396: in a merge patch an object is merged member by member (null removes one), so it is
            // applied to the stored object later; here only its shape is checked.
            if mode == .patch, case .countryTextMap = field.kind, case .object(let members) = value {
                var found: [HTTPError.FieldError] = []
                if case .invalid(let shape) = FieldDecoder.decode(.object(members.filter { !$0.1.isNull }), as: field, pointer: pointer) {
                    found += shape
                }
                for (key, member) in members where member.isNull && !Countries.isKnown(key) {
                    found.append(.init(pointer: pointer + "/" + JSONPointer.escape(key), message: "key " + FieldDecoder.countryMessage))
                }
                if found.isEmpty { objectPatches[field.column] = members } else { problems += found }
                continue
            }
            switch FieldDecoder.decode(value, as: field, pointer: pointer) {
            case .value(let v): values[field.column] = v
            case .invalid(let found): problems += found
            }
        }
        if mode == .create {
            let given = Set(members.map(\.0))
            for field in spec.writableFields where !given.contains(field.name) {
                if field.required {
                    problems.append(.init(pointer: "/" + field.name, message: "is required"))
                } else {
                    values[field.column] = field.defaultValue ?? .null
                }
            }
        }
        return (values, problems, objectPatches)
    }

    /// Applies a merge-patch object to the stored JSON object text (RFC 7396: null removes a member).
    static func merge(_ stored: SQLValue?, with patch: [(String, JSONValue)]) -> JSONValue {
        var members: [(String, JSONValue)] = []
        if case .text(let text)? = stored, let current = try? JSONParser.parse(Array(text.utf8)), let object = current.objectValue {
            members = object
        }
        for (key, value) in patch {
            members.removeAll { $0.0 == key }
            if !value.isNull { members.append((key, value)) }
        }
        return .object(members)
    }
}
