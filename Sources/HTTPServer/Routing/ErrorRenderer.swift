/// Turns an error into the response a client sees. The application installs one, so error bodies (their media
/// type and layout) are the application's; the server only says what went wrong (`HTTPFailure`) and when.
public protocol ErrorRenderer: Sendable {
    /// `request` is the request being answered, or nil when the failure came before a request was complete
    /// (framing, limits, timeouts, refusals). `requestID` is the id the response will carry in `X-Request-ID`.
    /// Any error may arrive here; one the renderer does not know must become a 500 that leaks nothing.
    func response(for error: any Error, request: HTTPRequest?, requestID: String) -> HTTPResponse
}

/// The renderer a server uses when the application installs none: one line of plain text.
public struct PlainTextErrorRenderer: ErrorRenderer {
    public init() {}

    public func response(for error: any Error, request: HTTPRequest?, requestID: String) -> HTTPResponse {
        guard let failure = error as? HTTPFailure else {
            return .text("500 Internal Server Error\n", status: 500)
        }
        var response = HTTPResponse.text("\(failure.status) \(HTTPStatus.reason(failure.status)): \(failure.detail) (request \(requestID))\n",
                                         status: failure.status)
        for field in failure.headers { response.headers.add(field.name, field.value) }
        response.closesConnection = failure.closesConnection
        return response
    }
}
