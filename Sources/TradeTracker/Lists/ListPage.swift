import HTTPServer
import JSON
import SQLite

/// The `{data, next_cursor}` envelope of every list and its `Link` header.
enum ListPage {
    static func response(request: HTTPRequest, query: ListQuery, nextKeys: [SQLValue]?, signer: CursorSigner,
                         writeItems: (inout JSONWriter) -> Void) -> HTTPResponse {
        var json = JSONWriter(capacity: 16 * 1024)
        json.beginObject()
        json.key("data")
        json.beginArray()
        writeItems(&json)
        json.endArray()
        let cursor = nextKeys.map { query.nextCursor(keys: $0, signer: signer) }
        json.member("next_cursor", cursor)
        json.endObject()
        var response = HTTPResponse.json(json.bytes)
        if let cursor {
            response.headers.add("Link", "<\(request.path)?cursor=\(cursor)&limit=\(query.limit)>; rel=\"next\"")
        }
        return response
    }
}
