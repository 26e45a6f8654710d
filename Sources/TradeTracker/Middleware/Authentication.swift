import Foundation
import HTTPServer

/// Bearer tokens with scopes, loaded at start; compared in constant time; never logged.
struct TokenTable: Sendable {
    struct Entry: Sendable {
        let principal: Principal
        let token: [UInt8]
    }

    let entries: [Entry]

    var isEmpty: Bool { entries.isEmpty }

    /// Parses `name scope token` lines (or `name:scope:token` entries separated by commas); `#` starts a comment.
    static func parse(_ text: String, origin: String) throws -> TokenTable {
        var entries: [Entry] = []
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == ";" })
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" })
            guard parts.count == 3 else {
                throw StartupError("\(origin) entry \(index + 1): expected 'name scope token'")
            }
            let scopes: [String: Principal.Scope] = ["read": .read, "write": .write, "admin": .admin]
            guard let scope = scopes[String(parts[1])] else {
                throw StartupError("\(origin) entry \(index + 1): scope must be read, write or admin")
            }
            guard parts[2].utf8.count >= 16 else {
                throw StartupError("\(origin) entry \(index + 1): a token must be at least 16 characters")
            }
            let name = String(parts[0])
            guard !entries.contains(where: { $0.principal.name == name || $0.token == Array(parts[2].utf8) }) else {
                throw StartupError("\(origin) entry \(index + 1): duplicate token name or token")
            }
            entries.append(Entry(principal: Principal(name: name, scope: scope), token: Array(parts[2].utf8)))
        }
        return TokenTable(entries: entries)
    }

    /// Reads a tokens file, refusing one that group or others may read.
    static func load(file path: String) throws -> TokenTable {
        var info = stat()
        guard stat(path, &info) == 0 else { throw StartupError("cannot read the tokens file \(path)") }
        guard info.st_mode & 0o077 == 0 else {
            throw StartupError("the tokens file \(path) is readable by others; run chmod 600 \(path)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw StartupError("cannot read the tokens file \(path)") }
        return try parse(String(decoding: data, as: UTF8.self), origin: path)
    }

    /// The principal whose token equals `presented`; every entry is compared in full so timing reveals nothing.
    func principal(for presented: Substring) -> Principal? {
        let given = Array(presented.utf8)
        var found: Principal? = nil
        for entry in entries where Self.constantTimeEquals(entry.token, given) {
            found = entry.principal
        }
        return found
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

/// Reads are open (unless configured otherwise), writes need a `write` token: 401 without a valid one, 403 with too small a scope.
struct Authentication: Middleware {
    let tokens: TokenTable
    let requireAuthForReads: Bool
    let pathPrefix: String

    func handle(_ request: HTTPRequest, next: Handler) throws -> HTTPResponse {
        // Preflights carry no credentials (CORS); they reveal nothing.
        // Unknown paths and methods answer 404/405 whoever asks: they reveal nothing a token would protect.
        guard request.path.hasPrefix(pathPrefix), request.method != "OPTIONS", request.routeFound else { return try next(request) }
        var request = request
        let isRead = request.method == "GET" || request.method == "HEAD"   // OPTIONS went past above
        if let header = request.headers["Authorization"] {
            guard header.count > 7, header.prefix(7).equalsIgnoringASCIICase("Bearer "),
                  let principal = tokens.principal(for: header.dropFirst(7).drop(while: { $0 == " " })) else {
                throw APIError.unauthorized("the bearer token is not valid")
            }
            request.attributes[PrincipalKey.self] = principal
        }
        let principal = request.attributes[PrincipalKey.self]
        if isRead {
            if requireAuthForReads && principal == nil { throw APIError.unauthorized("this server requires a token for reads") }
        } else if let principal {
            guard principal.scope >= .write else {
                throw APIError.forbidden("the token '\(principal.name)' has the read scope; writes need write or admin")
            }
            if AdminPaths.covers(request.path) && principal.scope < .admin {
                throw APIError.forbidden("the token '\(principal.name)' has the write scope; \(request.path) needs admin")
            }
        } else {
            throw APIError.unauthorized(tokens.isEmpty
                ? "writes are disabled: the server was started without tokens"
                : "writes need a bearer token with the write scope")
        }
        return try next(request)
    }
}

/// The paths only an `admin` token may write to: `/v1/admin/…` and the bulk import. A batch cannot hold them (it
/// needs only `write`).
enum AdminPaths {
    static func covers(_ path: String) -> Bool { path.hasPrefix("/v1/admin/") || path == ImportRoutes.path }
}
