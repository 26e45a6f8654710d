import HTTPServer
import JSON

/// The one place error bodies are written: every error, the HTTP server's own failures included, becomes
/// RFC 9457 `application/problem+json`; an error nobody described becomes a 500 that leaks nothing (and a log line).
struct ProblemRenderer: ErrorRenderer {
    let logger: Logger

    func response(for error: any Error, request: HTTPRequest?, requestID: String) -> HTTPResponse {
        let problem: Problem
        switch error {
        case let known as Problem:
            problem = known
        case let failure as HTTPFailure:
            problem = APIError.from(failure)
        default:
            logger.error("request_id=\(requestID) unhandled error: \(error)")
            problem = APIError.internalError()
        }
        return Self.response(problem, instance: request?.path ?? "", requestID: requestID)
    }

    static func response(_ problem: Problem, instance: String, requestID: String) -> HTTPResponse {
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.member("type", problem.type)
        json.member("code", problem.code)
        json.member("title", problem.title)
        json.member("status", problem.status)
        if let detail = problem.detail { json.member("detail", detail) }
        json.member("instance", instance)
        json.member("request_id", requestID)
        if !problem.errors.isEmpty {
            json.key("errors")
            json.beginArray()
            for error in problem.errors {
                json.beginObject()
                json.member("pointer", error.pointer)
                json.member("message", error.message)
                json.endObject()
            }
            json.endArray()
        }
        for (name, value) in problem.extensions { json.member(name, json: value) }
        json.endObject()
        var response = HTTPResponse(status: problem.status, headers: problem.headers, body: json.bytes)
        response.headers.set("Content-Type", "application/problem+json")
        response.closesConnection = problem.closesConnection
        return response
    }
}
