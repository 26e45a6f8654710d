import HTTPServer
import JSON

/// One log line per request, when its answer is known (a deferred answer when it arrives): as text, or with
/// `--log-format json` one JSON object with `time`, `request_id`, `method`, `route`, `path`, `status`, `bytes`,
/// `duration_ms`, `client`, `token_name`. Never a header value, a token or a body.
struct AccessLog: Middleware {
    enum Format: String, Sendable { case text, json }

    let logger: Logger
    let format: Format
    /// To name the caller's token (not the token).
    let tokens: TokenTable

    func handle(_ request: HTTPRequest, next: Handler) throws -> HTTPResponse {
        let started = ContinuousClock.now
        let response = try next(request)
        if let deferred = response.deferred {
            deferred.transform { [self] completed in
                record(request, completed, started: started)
                return completed
            }
        } else {
            record(request, response, started: started)
        }
        return response
    }

    private func record(_ request: HTTPRequest, _ response: HTTPResponse, started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let micros = elapsed.nanoseconds / 1000
        let bytes = response.isDeferredOrStreamed ? 0 : response.body.count
        switch format {
        case .text:
            logger.info("\(request.remoteAddress) \(request.method) \(request.path) \(response.status) \(micros)us request_id=\(request.requestID)")
        case .json:
            var json = JSONWriter(capacity: 320)
            json.beginObject()
            json.member("time", RFC3339.now())
            json.member("request_id", request.requestID)
            json.member("method", request.method)
            json.member("route", request.routeTemplate ?? "unmatched")
            json.member("path", request.path)
            json.member("status", response.status)
            json.member("bytes", bytes)
            json.key("duration_ms")
            json.number(String(Double(micros) / 1000))
            json.member("client", request.remoteAddress)
            json.member("token_name", tokenName(request))
            json.endObject()
            logger.line(json.bytes)
        }
    }

    private func tokenName(_ request: HTTPRequest) -> String? {
        guard let header = request.headers["Authorization"], header.count > 7, header.prefix(7).equalsIgnoringASCIICase("Bearer ") else {
            return nil
        }
        return tokens.principal(for: header.dropFirst(7).drop(while: { $0 == " " }))?.name
    }
}
