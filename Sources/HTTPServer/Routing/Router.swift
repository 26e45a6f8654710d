/// A handler: a plain synchronous function run on a worker thread.
public typealias Handler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// Maps method + path template (`/v1/rounds/{id}`) to handlers; decides 404 and 405 once.
public struct Router: Sendable {
    /// What a path resolved to.
    public enum Match: Sendable {
        case found(Handler, template: String, parameters: [String: String])
        case notFound
        case methodNotAllowed(allowed: [String], template: String)
        /// An OPTIONS request for a known path (or `*`): the methods it allows.
        case options(allowed: [String], template: String)
    }

    private struct Node: Sendable {
        var literals: [String: Node] = [:]
        var parameterName: String?
        var parameterChild: [Node] = []
        var handlers: [String: Handler] = [:]
        var template = ""
    }

    private var root = Node()
    public private(set) var routes: [(method: String, template: String)] = []

    public init() {}

    public mutating func add(_ method: String, _ template: String, _ handler: @escaping Handler) {
        precondition(template.hasPrefix("/"), "route templates start with /")
        routes.append((method, template))
        Self.insert(into: &root, segments: Self.segments(template)[...], method: method, template: template, handler: handler)
    }

    private static func insert(into node: inout Node, segments: ArraySlice<Substring>, method: String, template: String,
                               handler: @escaping Handler) {
        guard let first = segments.first else {
            precondition(node.handlers[method] == nil, "duplicate route \(method) \(template)")
            node.handlers[method] = handler
            node.template = template
            return
        }
        if first.hasPrefix("{") && first.hasSuffix("}") {
            let name = String(first.dropFirst().dropLast())
            precondition(node.parameterName == nil || node.parameterName == name, "conflicting parameter names in \(template)")
            node.parameterName = name
            if node.parameterChild.isEmpty { node.parameterChild = [Node()] }
            insert(into: &node.parameterChild[0], segments: segments.dropFirst(), method: method, template: template, handler: handler)
        } else {
            var child = node.literals[String(first)] ?? Node()
            insert(into: &child, segments: segments.dropFirst(), method: method, template: template, handler: handler)
            node.literals[String(first)] = child
        }
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { $0 }
    }

    /// Resolves `method` and a percent-encoded `path`; throws 400 for a malformed escape.
    public func match(method: String, path: String) throws(HTTPFailure) -> Match {
        if path == "*" {
            return method == "OPTIONS" ? .options(allowed: ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"], template: "*") : .notFound
        }
        var node = root
        var parameters: [String: String] = [:]
        for raw in Self.segments(path) {
            if let child = node.literals[String(raw)] {
                node = child
                continue
            }
            guard let name = node.parameterName, !raw.isEmpty else { return .notFound }
            guard let decoded = PercentDecoding.decode(raw, plusIsSpace: false) else {
                throw HTTPFailure(status: 400, reason: .malformedPath, detail: "the path holds an invalid percent-encoding")
            }
            parameters[name] = decoded
            node = node.parameterChild[0]
        }
        guard !node.handlers.isEmpty else { return .notFound }
        if let handler = node.handlers[method] {
            return .found(handler, template: node.template, parameters: parameters)
        }
        if method == "HEAD", let handler = node.handlers["GET"] {
            return .found(handler, template: node.template, parameters: parameters)
        }
        let allowed = Self.allowedMethods(node.handlers.keys)
        if method == "OPTIONS" { return .options(allowed: allowed, template: node.template) }
        return .methodNotAllowed(allowed: allowed, template: node.template)
    }

    private static func allowedMethods<S: Sequence>(_ methods: S) -> [String] where S.Element == String {
        var set = Set(methods)
        if set.contains("GET") { set.insert("HEAD") }
        set.insert("OPTIONS")
        let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        return order.filter { set.contains($0) } + set.subtracting(order).sorted()
    }
}
