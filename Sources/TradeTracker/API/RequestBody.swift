import JSON
import HTTPServer

/// The JSON object of a write request, after the media-type and syntax checks API.md §1 asks for.
enum RequestBody {
    /// Parses the body as a JSON object; 415 for another media type, 400 for anything that is not a JSON object.
    static func object(_ request: HTTPRequest, allowMergePatch: Bool = false) throws(Problem) -> [(String, JSONValue)] {
        try checkMediaType(request, accepted: allowMergePatch ? ["application/json", "application/merge-patch+json"] : ["application/json"])
        guard !request.body.isEmpty else { throw APIError.malformedJSON("the request has no body; send a JSON object") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(request.body)
        } catch {
            throw APIError.malformedJSON(error.description)
        }
        guard case .object(let members) = value else {
            throw APIError.malformedJSON("the body must be a JSON object, not \(value.typeName)")
        }
        return members
    }

    /// 415 unless the body's media type is one of `accepted` (JSON text: UTF-8 if a charset is named).
    static func checkMediaType(_ request: HTTPRequest, accepted: [String]) throws(Problem) {
        let contentType = request.headers["Content-Type"] ?? ""
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingHTTPWhitespace().lowercased() } ?? ""
        guard accepted.contains(mediaType) else {
            let given = contentType.isEmpty ? "no Content-Type" : "Content-Type \(contentType)"
            throw APIError.unsupportedMediaType("send the body as \(accepted.joined(separator: " or ")), not \(given)")
        }
        if let charset = contentType.split(separator: ";").dropFirst().first(where: { $0.trimmingHTTPWhitespace().lowercased().hasPrefix("charset=") }),
           !charset.trimmingHTTPWhitespace().lowercased().hasSuffix("utf-8") {
            throw APIError.unsupportedMediaType("JSON bodies must be UTF-8")
        }
    }
}
