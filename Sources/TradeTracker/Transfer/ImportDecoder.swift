import JSON

/// One import line as far as it can be checked without the database: the record's column values and the problems
/// in its fields (`InputDecoder`, as a POST body's), its stamp and its parent's id — or why the line is no record.
struct DecodedLine: Sendable {
    struct Record: Sendable {
        let resource: TransferResource
        var input: RecordInput
        /// A sub-resource's parent, when its member is a usable id.
        let parentID: Int64?
    }

    /// Where the line is, with the record's pointer prefix.
    let place: ImportPlace
    /// The record, or the line's problem (with `line`, `resource` and pointers relative to the line).
    let content: Result<Record, Problem>
    /// Bytes of input read once this line was, for progress.
    let bytesRead: Int
}

/// Where an import's decoded lines come from: decoded on the writer's thread as it goes (`ImportDecoder`), or
/// ahead on a thread of their own (`DecodingAhead`).
protocol DecodedLines: AnyObject {
    /// The next line; nil at the end of the input (or after a line that could not be read).
    func next() -> DecodedLine?
    /// Why the input could not be read, once that ended it.
    var readFailure: String? { get }
}

/// Reads the inputs' lines and decodes each: `{"resource": NAME, "record": {...}}`, or a plain record where the input
/// names its resource. Needs no database, so it may run ahead of the writer.
final class ImportDecoder: DecodedLines {
    /// One input: a file of an export folder, a single file or standard input, or a request body.
    struct Input {
        /// The file's name in messages, when the import reads several.
        let file: String?
        /// The resource of every line, for plain records; nil for `{"resource", "record"}` lines.
        let resource: TransferResource?
        let lines: NDJSONLines
        /// Lines before this number are skipped (`--from-line`).
        var firstLine = 1
    }

    private let inputs: [Input]
    private var current = 0
    private var bytesBefore = 0
    private(set) var readFailure: String?

    init(_ inputs: [Input]) {
        self.inputs = inputs
    }

    func next() -> DecodedLine? {
        while current < inputs.count {
            let input = inputs[current]
            let place = ImportPlace(file: input.file, line: input.lines.lineNumber + 1, pointerPrefix: "")
            do throws(NDJSONLines.Failure) {
                while let (number, bytes) = try input.lines.next() {
                    guard number >= input.firstLine else { continue }
                    let (place, content) = decode(bytes, place: ImportPlace(file: input.file, line: number, pointerPrefix: ""), input: input)
                    return DecodedLine(place: place, content: content, bytesRead: bytesBefore + input.lines.consumed)
                }
            } catch {
                current = inputs.count
                switch error {
                case .tooLong(let line, let limit):
                    var problem = APIError.malformedJSON("the line is longer than \(limit) bytes, the most one record may take")
                    let at = ImportPlace(file: input.file, line: line, pointerPrefix: "")
                    Importer.locate(&problem, at, resource: input.resource?.name)
                    return DecodedLine(place: at, content: .failure(problem), bytesRead: bytesBefore + input.lines.consumed)
                case .unreadable(let reason):
                    readFailure = "cannot read \(input.file ?? "the input"): \(reason)"
                    return DecodedLine(place: place, content: .failure(APIError.internalError()), bytesRead: bytesBefore)
                }
            }
            bytesBefore += input.lines.consumed
            current += 1
        }
        return nil
    }

    /// The line's record through the API's decoding, with the stamp an export wrote; the line's place with its
    /// record's pointer prefix.
    private func decode(_ bytes: [UInt8], place: ImportPlace, input: Input) -> (ImportPlace, Result<DecodedLine.Record, Problem>) {
        var place = place
        var resource = input.resource
        do throws(Problem) {
            let value: JSONValue
            do {
                value = try JSONParser.parse(bytes)
            } catch {
                throw APIError.malformedJSON("the line is not JSON: \(error.description)")
            }
            guard case .object(let members) = value else { throw APIError.malformedJSON("a line must be a JSON object, not \(value.typeName)") }
            var record = members
            if resource == nil {
                let (named, inner) = try Self.envelope(members)
                (resource, record) = (named, inner)
                place.pointerPrefix = "/record"
            }
            return (place, .success(Self.decode(record, as: resource!)))
        } catch {
            var problem = error
            Importer.nest(&problem, under: place.pointerPrefix)
            Importer.locate(&problem, place, resource: resource?.name)
            return (place, .failure(problem))
        }
    }

    /// A record's members as `InputDecoder` decodes a create, but keeping the read-only fields, the stamp and the
    /// parent member an export writes.
    static func decode(_ record: [(String, JSONValue)], as resource: TransferResource) -> DecodedLine.Record {
        var input = InputDecoder.decode(record, spec: resource.spec, mode: .restore, ignoring: resource.ownMembers)
        let (stamp, stampProblems) = RecordStamp.decode(record, withID: resource.hasID)
        input.stamp = stamp
        input.problems += stampProblems
        var parentID: Int64?
        if let parent = resource.parent {
            let pointer = "/" + parent.member
            switch record.first(where: { $0.0 == parent.member })?.1 {
            case nil:
                input.problems.append(.init(pointer: pointer, message: "is required: the id of the \(parent.spec.singular) it belongs to"))
            case let value?:
                if let id = value.integerValue, id >= 1 {
                    parentID = Int64(id)
                } else {
                    input.problems.append(.init(pointer: pointer, message: "must be the integer id of \(English.withArticle(parent.spec.singular))"))
                }
            }
        }
        return DecodedLine.Record(resource: resource, input: input, parentID: parentID)
    }

    /// `{"resource": NAME, "record": {...}}`: the resource and the record's members; every problem of the line at once.
    static func envelope(_ members: [(String, JSONValue)]) throws(Problem) -> (TransferResource, [(String, JSONValue)]) {
        var problems: [Problem.FieldError] = []
        var resource: TransferResource?
        var record: [(String, JSONValue)]?
        for (name, value) in members {
            switch name {
            case "resource":
                if let found = value.stringValue.flatMap(TransferCatalogue.named) { resource = found }
                else { problems.append(.init(pointer: "/resource", message: "must be one of \(TransferCatalogue.names.joined(separator: ", "))")) }
            case "record":
                if let object = value.objectValue { record = object }
                else { problems.append(.init(pointer: "/record", message: "must be a JSON object, not \(value.typeName)")) }
            default:
                problems.append(.init(pointer: "/" + JSONPointer.escape(name), message: "is not a member of an import line (it takes resource and record)"))
            }
        }
        for name in ["resource", "record"] where !members.contains(where: { $0.0 == name }) {
            problems.append(.init(pointer: "/" + name, message: "is required"))
        }
        guard problems.isEmpty, let resource, let record else { throw APIError.validation(problems) }
        return (resource, record)
    }
}
