import HTTPServer
import SQLite

/// Validates a request body against a resource's fields: unknown and read-only fields, types, required fields.
/// Every problem of the body is collected, so one 422 lists them all.
enum InputDecoder {
    enum Mode { case create, patch }

    /// The column values the body sets (with defaults on create) and the problems found.
    static func decode(_ members: [(String, JSONValue)], spec: ResourceSpec, mode: Mode,
                       ignoring extraNames: Set<String> = []) -> (values: RecordValues, problems: [HTTPError.FieldError]) {
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
        return (values, problems)
    }
}
