/// A small value that wraps the rest of the chain: request id, access log, CORS, rate limit, auth.
public protocol Middleware: Sendable {
    func handle(_ request: HTTPRequest, next: Handler) throws -> HTTPResponse
}

/// Routing, the middleware chain and the single place where errors become problem+json responses.
public struct Responder: Sendable {
    public let router: Router
    public let middleware: [any Middleware]
    public let logger: Logger

    public init(router: Router, middleware: [any Middleware] = [], logger: Logger = .standard) {
        self.router = router
        self.middleware = middleware
        self.logger = logger
    }

    /// Answers `request`; never throws: this is the edge where every error is rendered.
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        var request = request
        request.requestID = RequestID.assign(from: request.headers)
        var response: HTTPResponse
        do {
            let endpoint = try resolve(&request)
            response = try run(0, request, endpoint)
        } catch {
            response = Self.render(error, request: request, logger: logger)
        }
        response.headers.set("X-Request-ID", request.requestID)
        return response
    }

    /// Turns any error into its problem response; unknown errors become a 500 that leaks nothing.
    public static func render(_ error: any Error, request: HTTPRequest, logger: Logger) -> HTTPResponse {
        let httpError: HTTPError
        if let e = error as? HTTPError {
            httpError = e
        } else {
            logger.error("request_id=\(request.requestID) unhandled error: \(error)")
            httpError = .internalError()
        }
        return httpError.problemResponse(instance: request.path, requestID: request.requestID)
    }

    private func resolve(_ request: inout HTTPRequest) throws(HTTPError) -> Handler {
        switch try router.match(method: request.method, path: request.path) {
        case .found(let handler, let template, let parameters):
            request.routeTemplate = template
            request.pathParameters = parameters
            request.routeFound = true
            return handler
        case .notFound:
            return { _ in throw HTTPError.notFound() }
        case .methodNotAllowed(let allowed, let template):
            request.routeTemplate = template
            return { _ in throw HTTPError.methodNotAllowed(allowed: allowed) }
        case .options(let allowed, let template):
            request.routeTemplate = template
            return { _ in
                var response = HTTPResponse(status: 204)
                response.headers.add("Allow", allowed.joined(separator: ", "))
                return response
            }
        }
    }

    private func run(_ index: Int, _ request: HTTPRequest, _ endpoint: Handler) throws -> HTTPResponse {
        if index == middleware.count { return try endpoint(request) }
        return try middleware[index].handle(request) { try self.run(index + 1, $0, endpoint) }
    }
}
