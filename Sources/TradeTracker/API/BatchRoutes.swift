import HTTPServer
import JSON

/// The write a route hands over when it runs as one operation of a batch, instead of submitting it itself.
final class BatchOperationSlot: @unchecked Sendable {
    // Written and read on the writer thread only, within one batch job.
    var body: (@Sendable (WriteTransaction) throws -> WriteOutcome)?
}

enum BatchOperationKey: RequestAttributeKey {
    typealias Value = BatchOperationSlot
}

/// `POST /v1/batch` (API.md §1 "Batches"): 1 to 100 write operations run in order in one transaction, all or
/// nothing. Each operation goes through the same route handler a request of its own would, so it is validated,
/// checked (If-Match, references, state machines) and logged (its own change-log rows) exactly as one; the handler
/// hands its write to the batch instead of the writer. A later operation refers to an earlier result's id as
/// `$k.id`, as a whole path segment or a whole JSON string value. The first failure is answered with its own status
/// and `operation: k`, and the transaction is rolled back. An Idempotency-Key covers the batch as a whole.
struct BatchRoutes {
    static let path = "/v1/batch"
    static let maxOperations = 100
    static let methods: Set<String> = ["POST", "PATCH", "DELETE"]

    struct Operation: Sendable {
        let method: String
        let path: String
        let body: JSONValue?
        let ifMatch: String?
    }

    let context: APIContext
    /// The router the operations resolve against: the API's own (its route tree is shared with the copy served).
    let router: Router

    func register(on router: inout Router) {
        router.add("POST", Self.path) { [self] request in try batch(request) }
    }

    func batch(_ request: HTTPRequest) throws -> HTTPResponse {
        let operations = try Self.decode(try RequestBody.object(request))
        let write = try context.writeContext(request)
        let (router, base) = (router, request)
        return try context.respondAfterCommit(request, write, rerunnable: false) { transaction in
            var results: [WriteOutcome] = []
            var ids: [Int64?] = []
            for (index, operation) in operations.enumerated() {
                do {
                    let outcome = try Self.run(operation, index: index, earlier: ids, base: base, router: router, transaction: transaction)
                    results.append(outcome)
                    ids.append(Self.id(of: outcome))
                } catch var problem as Problem {
                    // Field pointers point into the batch's own body.
                    problem.errors = problem.errors.map { error in
                        error.pointer.hasPrefix("/operations/") || !error.pointer.hasPrefix("/") ? error
                            : .init(pointer: "/operations/\(index)/body" + error.pointer, message: error.message)
                    }
                    problem.extensions.append(("operation", .int(index)))
                    throw problem
                }
            }
            var json = JSONWriter(capacity: 256 + results.reduce(0) { $0 + $1.body.count + 96 })
            json.beginObject()
            json.key("results")
            json.beginArray()
            for result in results {
                json.beginObject()
                json.member("status", result.status)
                json.key("body")
                if result.body.isEmpty { json.null() } else { json.raw(result.body) }
                json.member("etag", result.headers.first { $0.0 == "ETag" }?.1)
                json.member("location", result.headers.first { $0.0 == "Location" }?.1)
                json.endObject()
            }
            json.endArray()
            json.endObject()
            return WriteOutcome(status: 200, headers: [("Content-Type", "application/json; charset=utf-8")], body: json.bytes)
        }
    }

    /// One operation: its references filled in, resolved to its route, run by that route's handler, its write
    /// executed in the batch's transaction.
    static func run(_ operation: Operation, index: Int, earlier: [Int64?], base: HTTPRequest, router: Router,
                    transaction: WriteTransaction) throws -> WriteOutcome {
        let path = try operation.path.split(separator: "/", omittingEmptySubsequences: false)
            .map { segment in try reference(String(segment), earlier: earlier, pointer: "/operations/\(index)/path").map { String($0) } ?? String(segment) }
            .joined(separator: "/")
        var headers = HTTPHeaders()
        var body: [UInt8] = []
        if let value = operation.body {
            headers.add("Content-Type", "application/json")
            body = try substitute(value, earlier: earlier, pointer: "/operations/\(index)/body").encoded
        }
        if let ifMatch = operation.ifMatch { headers.add("If-Match", ifMatch) }
        var request = HTTPRequest(method: operation.method, target: path, headers: headers, body: body,
                                  remoteAddress: base.remoteAddress, requestID: base.requestID)
        request.attributes = base.attributes
        let slot = BatchOperationSlot()
        request.attributes[BatchOperationKey.self] = slot
        let handler: Handler
        do {
            switch try router.match(method: operation.method, path: path) {
            case .found(let found, let template, let parameters):
                guard template != Self.path, !AdminPaths.covers(template) else {
                    throw APIError.validation([.init(pointer: "/operations/\(index)/path", message: "is not an operation a batch can hold")])
                }
                request.routeTemplate = template
                request.pathParameters = parameters
                request.routeFound = true
                handler = found
            case .notFound, .options:
                throw APIError.from(HTTPFailure.notFound())
            case .methodNotAllowed(let allowed, _):
                throw APIError.from(HTTPFailure.methodNotAllowed(allowed: allowed))
            }
        } catch let failure as HTTPFailure {
            throw APIError.from(failure)
        }
        _ = try handler(request)
        guard let write = slot.body else {
            throw APIError.validation([.init(pointer: "/operations/\(index)", message: "is not a write a batch can hold")])
        }
        return try write(transaction)
    }

    /// The `id` member of an operation's result body, if it has one.
    static func id(of outcome: WriteOutcome) -> Int64? {
        guard case .object(let members)? = try? JSONParser.parse(outcome.body),
              let id = members.first(where: { $0.0 == "id" })?.1.intValue else { return nil }
        return Int64(id)
    }

    /// `$k.id` as the id of result k (k earlier than this operation); nil for any other text.
    static func reference(_ text: String, earlier: [Int64?], pointer: String) throws(Problem) -> Int64? {
        guard text.hasPrefix("$"), text.hasSuffix(".id"), text.utf8.count > 4 else { return nil }
        let digits = text.dropFirst().dropLast(3)
        guard digits.allSatisfy(\.isASCII), let k = Int(digits), k >= 0, String(k) == digits else { return nil }
        guard k < earlier.count else {
            throw APIError.validation([.init(pointer: pointer, message: "refers to operation \(k), which does not come before this one")])
        }
        guard let id = earlier[k] else {
            throw APIError.validation([.init(pointer: pointer, message: "refers to operation \(k), whose result has no id")])
        }
        return id
    }

    /// The body with every string that is exactly `$k.id` replaced by that id, at any depth.
    static func substitute(_ value: JSONValue, earlier: [Int64?], pointer: String) throws(Problem) -> JSONValue {
        switch value {
        case .string(let text):
            if let id = try reference(text, earlier: earlier, pointer: pointer) { return .int(id) }
            return value
        case .array(let items):
            var out: [JSONValue] = []
            for (i, item) in items.enumerated() { out.append(try substitute(item, earlier: earlier, pointer: "\(pointer)/\(i)")) }
            return .array(out)
        case .object(let members):
            var out: [(String, JSONValue)] = []
            for (name, item) in members {
                out.append((name, try substitute(item, earlier: earlier, pointer: "\(pointer)/\(JSONPointer.escape(name))")))
            }
            return .object(out)
        default:
            return value
        }
    }

    /// The request body: `{"operations": [...]}` with 1 to 100 operations, each `method`, `path`, optional `body`
    /// (a JSON object; required for POST and PATCH) and optional `if_match`. Every problem is one 422.
    static func decode(_ members: [(String, JSONValue)]) throws(Problem) -> [Operation] {
        var problems: [Problem.FieldError] = []
        var operations: [Operation] = []
        var list: [JSONValue]?
        for (name, value) in members {
            if name == "operations" {
                guard let items = value.arrayValue else {
                    problems.append(.init(pointer: "/operations", message: "must be an array of operations, not \(value.typeName)"))
                    continue
                }
                list = items
            } else {
                problems.append(.init(pointer: "/" + JSONPointer.escape(name), message: "is not a field of a batch (it takes operations)"))
            }
        }
        if let list {
            if !(1...maxOperations).contains(list.count) {
                problems.append(.init(pointer: "/operations", message: "must hold 1 to \(maxOperations) operations, not \(list.count)"))
            }
            for (index, item) in list.prefix(maxOperations).enumerated() {
                let at = "/operations/\(index)"
                guard let fields = item.objectValue else {
                    problems.append(.init(pointer: at, message: "must be an object with method, path and body, not \(item.typeName)"))
                    continue
                }
                var method: String?, path: String?, body: JSONValue?, ifMatch: String?
                for (name, value) in fields {
                    switch name {
                    case "method":
                        if let text = value.stringValue, methods.contains(text) { method = text }
                        else { problems.append(.init(pointer: "\(at)/method", message: "must be one of DELETE, PATCH, POST")) }
                    case "path":
                        if let text = value.stringValue, text.hasPrefix("/v1/"), !text.contains("?"), !text.contains("#"),
                           text.utf8.count <= 2048, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) { path = text }
                        else { problems.append(.init(pointer: "\(at)/path", message: "must be a /v1/ path without a query, in visible ASCII")) }
                    case "body":
                        if value.objectValue != nil { body = value }
                        else if !value.isNull { problems.append(.init(pointer: "\(at)/body", message: "must be a JSON object, not \(value.typeName)")) }
                    case "if_match":
                        if let text = value.stringValue, !text.isEmpty, text.utf8.count <= 256 { ifMatch = text }
                        else if !value.isNull { problems.append(.init(pointer: "\(at)/if_match", message: "must be an entity tag (a string)")) }
                    default:
                        problems.append(.init(pointer: "\(at)/" + JSONPointer.escape(name), message: "is not a field of an operation (it takes method, path, body, if_match)"))
                    }
                }
                if !fields.contains(where: { $0.0 == "method" }) { problems.append(.init(pointer: "\(at)/method", message: "is required")) }
                if !fields.contains(where: { $0.0 == "path" }) { problems.append(.init(pointer: "\(at)/path", message: "is required")) }
                if let method, method != "DELETE", body == nil, !problems.contains(where: { $0.pointer == "\(at)/body" }) {
                    problems.append(.init(pointer: "\(at)/body", message: "is required for \(method)"))
                }
                if method == "DELETE", body != nil { problems.append(.init(pointer: "\(at)/body", message: "must be absent for DELETE")) }
                if let method, let path { operations.append(Operation(method: method, path: path, body: body, ifMatch: ifMatch)) }
            }
        } else if !members.contains(where: { $0.0 == "operations" }) {
            problems.append(.init(pointer: "/operations", message: "is required"))
        }
        if !problems.isEmpty { throw APIError.validation(problems) }
        return operations
    }
}
