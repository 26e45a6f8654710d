/// A handler: a plain synchronous function run on a worker thread.
public typealias Handler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// Maps method + path template (`/v1/rounds/{id}`) to handlers; decides 404 and 405 once. Build it with `add`,
/// then hand it to a `Responder`; copies share one route tree.
public struct Router: Sendable {
    /// What a path resolved to.
    public enum Match: Sendable {
        case found(Handler, template: String, parameters: [String: String])
        case notFound
        case methodNotAllowed(allowed: [String], template: String)
        /// An OPTIONS request for a known path (or `*`): the methods it allows.
        case options(allowed: [String], template: String)
    }

    /// One path segment's position in the tree. A class so a walk moves a reference, not a copy of dictionaries.
    /// `@unchecked Sendable`: nodes are only mutated by `add` while the router is being built, before it is shared.
    private final class Node: @unchecked Sendable {
        var literals: [String: Node] = [:]
        var parameterName: String?
        var parameterChild: Node?
        var handlers: [String: Handler] = [:]
        var template = ""
        /// The methods `handlers` allow, OPTIONS and HEAD included, in the order `Allow` lists them.
        var allowed: [String] = []
    }

    private var root = Node()
    /// Templates without parameters, by their exact text: most requests resolve with one hash lookup.
    private var exact: [String: Node] = [:]
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
                if node.literals[key] == nil { node.literals[key] = Node() }
                node = node.literals[key]!
            }
        }
        precondition(node.handlers[method] == nil, "duplicate route \(method) \(template)")
        node.handlers[method] = handler
        node.template = template
        node.allowed = Self.allowedMethods(node.handlers.keys)
        if !template.contains("{") { exact[template] = node }
    }

    /// Resolves `method` and a percent-encoded `path`; throws 400 for a malformed escape.
    public func match(method: String, path: String) throws(HTTPFailure) -> Match {
        if path == "*" {
            return method == "OPTIONS" ? .options(allowed: ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"], template: "*") : .notFound
        }
        var parameters: [String: String] = [:]
        let resolved: Node
        if let node = exact[path] {
            resolved = node
        } else {
            guard let node = try walk(path, parameters: &parameters) else { return .notFound }
            resolved = node
        }
        guard !resolved.handlers.isEmpty else { return .notFound }
        if let handler = resolved.handlers[method] {
            return .found(handler, template: resolved.template, parameters: parameters)
        }
        if method == "HEAD", let handler = resolved.handlers["GET"] {
            return .found(handler, template: resolved.template, parameters: parameters)
        }
        if method == "OPTIONS" { return .options(allowed: resolved.allowed, template: resolved.template) }
        return .methodNotAllowed(allowed: resolved.allowed, template: resolved.template)
    }

    /// Follows the path segment by segment: a literal child first, else the parameter child (no backtracking).
    private func walk(_ path: String, parameters: inout [String: String]) throws(HTTPFailure) -> Node? {
        var node = root
        let utf8 = path.utf8
        guard utf8.first == UInt8(ascii: "/") else { return nil }
        var start = utf8.index(after: utf8.startIndex)
        while true {
            let end = utf8[start...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
            let raw = Substring(path.utf8[start..<end])
            if let child = node.literals[String(raw)] {
                node = child
            } else {
                guard let name = node.parameterName, let child = node.parameterChild, !raw.isEmpty else { return nil }
                guard let decoded = PercentDecoding.decode(raw, plusIsSpace: false) else {
                    throw HTTPFailure(status: 400, reason: .malformedPath, detail: "the path holds an invalid percent-encoding")
                }
                parameters[name] = decoded
                node = child
            }
            guard end < utf8.endIndex else { return node }
            start = utf8.index(after: end)
        }
    }

    private static func allowedMethods<S: Sequence>(_ methods: S) -> [String] where S.Element == String {
        var set = Set(methods)
        if set.contains("GET") { set.insert("HEAD") }
        set.insert("OPTIONS")
        let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        return order.filter { set.contains($0) } + set.subtracting(order).sorted()
    }
}
