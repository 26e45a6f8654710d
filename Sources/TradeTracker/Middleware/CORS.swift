import HTTPServer

/// Cross-origin access for browser dashboards on configured origins (API.md §1). For a matching `Origin`, every
/// response — errors, 304s, deferred and streamed ones included — echoes the origin and exposes the headers a
/// dashboard reads; a preflight on any routed path is a 204 naming the path's methods and the headers a dashboard
/// sends, asked no credentials. An origin not configured gets no `Access-Control-*` header at all, and its
/// preflight is the plain OPTIONS answer; every response varies on `Origin` either way. `*` admits any origin,
/// but only for reads that carry no `Authorization`: a token is never accepted through the wildcard.
struct CORS: Middleware {
    static let exposedHeaders = ["ETag", "Link", "Location", "X-Request-ID", "Retry-After", "RateLimit", "RateLimit-Policy",
                                 "Idempotent-Replayed", "Content-Disposition"]
    static let allowedHeaders = ["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key", "Last-Event-ID",
                                 "X-Request-ID"]
    static let maxAge = 600
    private static let safeMethods: Set<String> = ["GET", "HEAD", "OPTIONS"]

    /// Origins exactly as configured (`scheme://host[:port]`), compared exactly.
    let origins: Set<String>
    let renderer: any ErrorRenderer

    init(origins: [String], renderer: any ErrorRenderer) {
        self.origins = Set(origins)
        self.renderer = renderer
    }

    private var allowsAny: Bool { origins.contains("*") }

    func handle(_ request: HTTPRequest, next: Handler) throws -> HTTPResponse {
        guard let origin = request.headers["Origin"] else {
            var response = try answer(request, next)
            Self.varyOnOrigin(&response)
            return response
        }
        let preflight = request.method == "OPTIONS" && request.headers.contains("Access-Control-Request-Method")
        let explicit = origins.contains(origin)
        if preflight && !request.allowedMethods.isEmpty && (explicit || allowsAny) {
            return preflightResponse(request, origin: origin, explicit: explicit)
        }
        var response = try answer(request, next)
        let credentialed = request.headers.contains("Authorization")
        if explicit {
            Self.decorate(&response, allowOrigin: origin)
        } else if allowsAny && Self.safeMethods.contains(request.method) && !credentialed {
            Self.decorate(&response, allowOrigin: "*")
        } else {
            Self.varyOnOrigin(&response)
        }
        return response
    }

    /// The rest of the chain, with errors rendered here so they can carry the CORS headers too.
    private func answer(_ request: HTTPRequest, _ next: Handler) throws -> HTTPResponse {
        do {
            return try next(request)
        } catch {
            return renderer.response(for: error, request: request, requestID: request.requestID)
        }
    }

    private func preflightResponse(_ request: HTTPRequest, origin: String, explicit: Bool) -> HTTPResponse {
        var response = HTTPResponse(status: 204)
        let methods = explicit ? request.allowedMethods : request.allowedMethods.filter { Self.safeMethods.contains($0) }
        let headers = explicit ? Self.allowedHeaders : Self.allowedHeaders.filter { $0 != "Authorization" }
        response.headers.add("Allow", request.allowedMethods.joined(separator: ", "))
        response.headers.add("Access-Control-Allow-Origin", explicit ? origin : "*")
        response.headers.add("Access-Control-Allow-Methods", methods.joined(separator: ", "))
        response.headers.add("Access-Control-Allow-Headers", headers.joined(separator: ", "))
        response.headers.add("Access-Control-Max-Age", String(Self.maxAge))
        response.headers.add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        return response
    }

    private static func decorate(_ response: inout HTTPResponse, allowOrigin: String) {
        // A deferred response gets them when it arrives; the placeholder itself is never sent.
        if let deferred = response.deferred {
            deferred.transform { completed in
                var completed = completed
                allow(&completed, origin: allowOrigin)
                return completed
            }
        } else {
            allow(&response, origin: allowOrigin)
        }
    }

    private static func allow(_ response: inout HTTPResponse, origin: String) {
        addVary(&response)
        response.headers.set("Access-Control-Allow-Origin", origin)
        response.headers.set("Access-Control-Expose-Headers", exposedHeadersValue)
    }

    private static let exposedHeadersValue = exposedHeaders.joined(separator: ", ")

    private static func varyOnOrigin(_ response: inout HTTPResponse) {
        if let deferred = response.deferred {
            deferred.transform { completed in
                var completed = completed
                addVary(&completed)
                return completed
            }
        } else {
            addVary(&response)
        }
    }

    private static func addVary(_ response: inout HTTPResponse) {
        guard response.headers["Vary"] != nil else {
            response.headers.add("Vary", "Origin")
            return
        }
        let vary = response.headers.listValues("Vary")
        if !vary.contains(where: { $0.equalsIgnoringASCIICase("Origin") }) {
            response.headers.set("Vary", (vary + ["Origin"]).joined(separator: ", "))
        }
    }
}
