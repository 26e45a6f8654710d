/// A handler: a plain synchronous function run on a worker thread.
public typealias Handler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// Maps method + path template (`/v1/rounds/{id}`) to handlers; decides 404 and 405 once. Build it with `add`,
/// then hand it to a `Responder`; copies share one route tree.
public struct Router: Sendable {
    /// What a path resolved to.
    public enum Match: Sendable {
        case found(Handler, template: String, parameters: PathParameters)
        case notFound
        case methodNotAllowed(allowed: [String], template: String)
        /// An OPTIONS request for a known path (or `*`): the methods it allows.
        case options(allowed: [String], template: String)
    }

    /// One path segment's position in the tree. A class so a walk moves a reference, not a copy of arrays.
    /// `@unchecked Sendable`: nodes are only mutated by `add` while the router is being built, before it is shared.
    /// Children and handlers are short arrays searched in order: a node has a few dozen children at most, and
    /// comparing a segment's bytes costs less than hashing it (this runs for every request).
    private final class Node: @unchecked Sendable {
        var literals: [(segment: [UInt8], node: Node)] = []
        var parameterName: String?
        var parameterChild: Node?
        var handlers: [(method: String, handler: Handler)] = []
        var template = ""
        /// The methods `handlers` allow, OPTIONS and HEAD included, in the order `Allow` lists them.
        var allowed: [String] = []

        func literal(_ segment: UnsafeBufferPointer<UInt8>) -> Node? {
            literals.first { $0.segment.hasSameBytes(as: segment) }?.node
        }

        func literal(_ segment: String) -> Node? {
            literals.first { $0.segment.elementsEqual(segment.utf8) }?.node
        }

        func handler(_ method: String) -> Handler? {
            handlers.first { $0.method == method }?.handler
        }
    }

    private var root = Node()
    public private(set) var routes: [(method: String, template: String)] = []

    public init() {}

    public mutating func add(_ method: String, _ template: String, _ handler: @escaping Handler) {
        precondition(template.hasPrefix("/"), "route templates start with /")
        routes.append((method, template))
        var node = root
        for segment in template.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            if segment.hasPrefix("{") && segment.hasSuffix("}") {
                let name = String(segment.dropFirst().dropLast())
                precondition(node.parameterName == nil || node.parameterName == name, "conflicting parameter names in \(template)")
                node.parameterName = name
                if node.parameterChild == nil { node.parameterChild = Node() }
                node = node.parameterChild!
            } else {
                let key = String(segment)
                if let child = node.literal(key) {
                    node = child
                } else {
                    let child = Node()
                    node.literals.append((Array(key.utf8), child))
                    node = child
                }
            }
        }
        precondition(node.handler(method) == nil, "duplicate route \(method) \(template)")
        node.handlers.append((method, handler))
        node.template = template
        node.allowed = Self.allowedMethods(node.handlers.map(\.method))
    }

    /// Resolves `method` and a percent-encoded `path`; throws 400 for a malformed escape.
    public func match(method: String, path: String) throws(HTTPFailure) -> Match {
        if path == "*" {
            return method == "OPTIONS" ? .options(allowed: ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"], template: "*") : .notFound
        }
        var parameters = PathParameters()
        let resolved = try walk(path, parameters: &parameters)
        guard let resolved, !resolved.handlers.isEmpty else { return .notFound }
        if let handler = resolved.handler(method) {
            return .found(handler, template: resolved.template, parameters: parameters)
        }
        if method == "HEAD", let handler = resolved.handler("GET") {
            return .found(handler, template: resolved.template, parameters: parameters)
        }
        if method == "OPTIONS" { return .options(allowed: resolved.allowed, template: resolved.template) }
        return .methodNotAllowed(allowed: resolved.allowed, template: resolved.template)
    }

    private func walk(_ path: String, parameters: inout PathParameters) throws(HTTPFailure) -> Node? {
        if let result = path.utf8.withContiguousStorageIfAvailable({ bytes in
            Result { () throws(HTTPFailure) in try walk(bytes, parameters: &parameters) }
        }) {
            return try result.get()
        }
        var contiguous = path
        contiguous.makeContiguousUTF8()
        return try walk(contiguous, parameters: &parameters)
    }

    /// Follows the path segment by segment: a literal child first, else the parameter child (no backtracking).
    private func walk(_ path: UnsafeBufferPointer<UInt8>, parameters: inout PathParameters) throws(HTTPFailure) -> Node? {
        var node = root
        guard path.first == UInt8(ascii: "/") else { return nil }
        var start = 1
        while true {
            var end = start
            while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
            let segment = UnsafeBufferPointer(rebasing: path[start..<end])
            if let child = node.literal(segment) {
                node = child
            } else {
                guard let name = node.parameterName, let child = node.parameterChild, !segment.isEmpty else { return nil }
                guard let decoded = PercentDecoding.decode(segment) else {
                    throw HTTPFailure(status: 400, reason: .malformedPath, detail: "the path holds an invalid percent-encoding")
                }
                parameters.append(name, decoded)
                node = child
            }
            guard end < path.count else { return node }
            start = end + 1
        }
    }

    private static func allowedMethods(_ methods: [String]) -> [String] {
        var set = Set(methods)
        if set.contains("GET") { set.insert("HEAD") }
        set.insert("OPTIONS")
        let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        return order.filter { set.contains($0) } + set.subtracting(order).sorted()
    }
}

/// The values a route template captured, e.g. `id` of `/v1/rounds/{id}`, in the template's order. A template has
/// one or two of them: a short array, searched by name, costs less than a dictionary made for every request.
public struct PathParameters: Sendable, Equatable, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    private var pairs: [(name: String, value: String)] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { append(name, value) }
    }

    public subscript(_ name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    public var isEmpty: Bool { pairs.isEmpty }

    mutating func append(_ name: String, _ value: String) {
        pairs.append((name, value))
    }

    /// Equal when they hold the same names with the same values (order aside, as a dictionary's).
    public static func == (a: PathParameters, b: PathParameters) -> Bool {
        a.pairs.count == b.pairs.count && a.pairs.allSatisfy { b[$0.name] == $0.value }
    }

    public var description: String {
        "[" + pairs.map { "\"\($0.name)\": \"\($0.value)\"" }.joined(separator: ", ") + "]"
    }
}
