import JSON
import SQLite

/// Validates a request body against a resource's fields: unknown and read-only fields, types, required fields.
/// Every problem of the body is collected, so one 422 lists them all.
enum InputDecoder {
    /// `restore` is a create that also takes the read-only fields an export writes (a round's `sequence`): an
    /// import keeps them. Only imports use it.
    enum Mode { case create, patch, restore }

    /// The column values the body sets (with defaults on create), the problems found, and — for a merge patch —
    /// the object-valued members still to be merged into the stored record.
    static func decode(_ members: [(String, JSONValue)], spec: ResourceSpec, mode: Mode, ignoring extraNames: Set<String> = []) -> RecordInput {
        var input = RecordInput()
        for (name, value) in members where !extraNames.contains(name) {
            let pointer = "/" + JSONPointer.escape(name)
            guard let field = spec.field(named: name) else {
                if ResourceSpec.recordColumns.contains(name) || spec.computed.contains(where: { $0.name == name }) {
                    input.problems.append(.init(pointer: pointer, message: "is read-only"))
                } else {
                    input.problems.append(.init(pointer: pointer, message: "is not a field of \(English.withArticle(spec.singular))"))
                }
                continue
            }
            if field.readOnly && mode != .restore {
                input.problems.append(.init(pointer: pointer, message: "is read-only"))
                continue
            }
            // RFC 7396: in a merge patch an object is merged member by member (null removes one), so it is
            // applied to the stored object later; here only its shape is checked.
            if mode == .patch, case .countryTextMap = field.kind, case .object(let members) = value {
                var found: [Problem.FieldError] = []
                if case .invalid(let shape) = FieldDecoder.decode(.object(members.filter { !$0.1.isNull }), as: field, pointer: pointer) {
                    found += shape
                }
                for (key, member) in members where member.isNull && !Countries.isKnown(key) {
                    found.append(.init(pointer: pointer + "/" + JSONPointer.escape(key), message: "key " + FieldDecoder.countryMessage))
                }
                if found.isEmpty { input.objectPatches[field.column] = members } else { input.problems += found }
                continue
            }
            switch FieldDecoder.decode(value, as: field, pointer: pointer) {
            case .value(let v): input.values[field.column] = v
            case .invalid(let found): input.problems += found
            }
        }
        if mode != .patch {
            let given = Set(members.map(\.0))
            for field in spec.writableFields where !given.contains(field.name) {
                if field.required {
                    input.problems.append(.init(pointer: "/" + field.name, message: "is required"))
                } else {
                    input.values[field.column] = field.defaultValue ?? .null
                }
            }
        }
        return input
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
