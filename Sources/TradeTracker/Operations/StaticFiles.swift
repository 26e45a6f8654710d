import Foundation
import HTTPServer

/// The dashboard page for people: the files of `public/`, read once at start, served with strong ETags (a matching
/// `If-None-Match` gets 304), `Cache-Control: no-cache` (so a browser revalidates and sees a new build at once) and
/// `Content-Security-Policy: default-src 'self'`. `index.html` is served as `/`.
struct StaticFiles {
    struct File: Sendable {
        let body: [UInt8]
        let contentType: String
        let etag: String
    }

    static let contentTypes = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon", "json": "application/json; charset=utf-8",
        "txt": "text/plain; charset=utf-8",
    ]
    static let contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// URL path → file, for the files directly in `directory` with a known type; empty when there is no folder.
    let files: [String: File]

    init(directory: String) throws {
        var files: [String: File] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() {
            let ext = (name as NSString).pathExtension.lowercased()
            guard let type = Self.contentTypes[ext], !name.hasPrefix(".") else { continue }
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw StartupError("cannot read \(path) for the dashboard page")
            }
            let file = File(body: Array(data), contentType: type, etag: EntityTag.strong(for: Array(data)))
            files[name == "index.html" ? "/" : "/" + name] = file
        }
        self.files = files
    }

    func register(on router: inout Router) {
        for (path, file) in files.sorted(by: { $0.key < $1.key }) {
            router.add("GET", path) { request in Self.response(file, request: request) }
        }
    }

    static func response(_ file: File, request: HTTPRequest) -> HTTPResponse {
        var response: HTTPResponse
        if let field = request.headers["If-None-Match"], EntityTag.noneMatchHits(field, current: file.etag) {
            response = HTTPResponse(status: 304)
        } else {
            response = HTTPResponse(status: 200, body: file.body)
            response.headers.add("Content-Type", file.contentType)
        }
        response.headers.add("ETag", file.etag)
        response.headers.add("Cache-Control", "no-cache")
        response.headers.add("Content-Security-Policy", contentSecurityPolicy)
        response.headers.add("Referrer-Policy", "no-referrer")
        return response
    }
}
