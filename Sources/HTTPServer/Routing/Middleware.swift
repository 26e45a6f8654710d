/// A small value that wraps the rest of the chain (the product's access log, auth and conditional GET are ones).
public protocol Middleware: Sendable {
    func handle(_ request: HTTPRequest, next: Handler) throws -> HTTPResponse
}

/// Routing, the middleware chain, and the hand-over of every error to the application's renderer.
public struct Responder: Sendable {
    public let router: Router
    public let middleware: [any Middleware]
    public let renderer: any ErrorRenderer
    /// The middleware wrapped around the routed handler once, here, instead of building closures per request.
    private let chain: Handler

    public init(router: Router, middleware: [any Middleware] = [], renderer: any ErrorRenderer = PlainTextErrorRenderer()) {
        self.router = router
        self.middleware = middleware
        self.renderer = renderer
        var chain: Handler = { request in
            guard let handler = request.handler else { throw HTTPFailure.notFound() }
            return try handler(request)
        }
        for layer in middleware.reversed() {
            let next = chain
            chain = { request in try layer.handle(request, next: next) }
        }
        self.chain = chain
    }

    /// Answers `request`; never throws: this is the edge where every error is rendered.
    public func respond(to request: consuming HTTPRequest) -> HTTPResponse {
        request.requestID = RequestID.assign(from: request.headers)
        var response: HTTPResponse
        do {
            request.handler = try resolve(&request)
            response = try chain(request)
        } catch {
            response = renderer.response(for: error, request: request, requestID: request.requestID)
        }
        response.headers.set("X-Request-ID", request.requestID)
        return response
    }

    /// The answer to a failure found before a request was complete (framing, timeouts, refusals): rendered with a
    /// fresh request id, which the `X-Request-ID` header carries too.
    func standaloneResponse(for failure: HTTPFailure) -> HTTPResponse {
        let requestID = RequestID.generate()
        var response = renderer.response(for: failure, request: nil, requestID: requestID)
        response.headers.set("X-Request-ID", requestID)
        if failure.closesConnection { response.closesConnection = true }
        return response
    }

    private func resolve(_ request: inout HTTPRequest) throws(HTTPFailure) -> Handler {
        switch try router.match(method: request.method, path: request.path) {
        case .found(let handler, let template, let parameters):
            request.routeTemplate = template
            request.pathParameters = parameters
            request.routeFound = true
            return handler
        case .notFound:
            return { _ in throw HTTPFailure.notFound() }
        case .methodNotAllowed(let allowed, let template):
            request.routeTemplate = template
            return { _ in throw HTTPFailure.methodNotAllowed(allowed: allowed) }
        case .options(let allowed, let template):
            request.routeTemplate = template
            request.allowedMethods = allowed
            return { _ in
                var response = HTTPResponse(status: 204)
                response.headers.add("Allow", allowed.joined(separator: ", "))
                return response
            }
        }
    }
}
