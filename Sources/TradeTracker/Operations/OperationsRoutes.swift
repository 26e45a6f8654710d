import JSON
import HTTPServer
import SQLite

/// `/healthz`, `/readyz` and `/openapi.yaml`: what load balancers and client generators ask for.
struct OperationsRoutes {
    /// Open, migrated and writable (a probe write is committed each time it is asked).
    let readiness: @Sendable () -> Database.Readiness
    let openAPIDocument: [UInt8]
    let isShuttingDown: @Sendable () -> Bool

    private static let healthy: [UInt8] = Array(#"{"status":"ok"}"#.utf8)

    func register(on router: inout Router) {
        router.add("GET", "/healthz") { _ in
            var response = HTTPResponse.json(Self.healthy)
            response.headers.add("Cache-Control", "no-store")
            return response
        }
        router.add("GET", "/readyz") { [readiness, isShuttingDown] _ in
            var checks: [(String, JSONValue)] = []
            let shuttingDown = isShuttingDown()
            let readiness = shuttingDown ? Database.Readiness(open: true, writable: true, migrated: true, problem: nil) : readiness()
            checks.append(("database_open", .bool(readiness.open)))
            checks.append(("database_writable", .bool(readiness.writable)))
            checks.append(("migrations_applied", .bool(readiness.migrated)))
            checks.append(("shutting_down", .bool(shuttingDown)))
            checks.append(("database_problem", readiness.problem.map(JSONValue.string) ?? .null))
            let ready = readiness.open && readiness.writable && readiness.migrated && !shuttingDown
            let body = JSONValue.object([("status", .string(ready ? "ready" : "not_ready")), ("checks", .object(checks))])
            var response = HTTPResponse.json(body.encoded, status: ready ? 200 : 503)
            response.headers.add("Cache-Control", "no-store")
            if !ready { response.headers.add("Retry-After", "5") }
            return response
        }
        router.add("GET", "/openapi.yaml") { [openAPIDocument] _ in
            var response = HTTPResponse(status: 200, body: openAPIDocument)
            response.headers.add("Content-Type", "application/yaml; charset=utf-8")
            response.headers.add("Cache-Control", "public, max-age=300")
            return response
        }
    }
}
