import XCTest
import JSON
import Foundation
@testable import TradeTracker

/// Keeps openapi.yaml and the router in step: every route is documented and every documented operation is served.
final class OpenAPICoverageTests: XCTestCase {
    /// `(METHOD, /path/{param})` pairs under `paths:`, read from the file's fixed two-space layout.
    static func documentedOperations() throws -> Set<String> {
        let text = try String(contentsOf: TestApp.packageRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        var operations = Set<String>()
        var inPaths = false
        var currentPath: String?
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if !line.hasPrefix(" ") && !line.isEmpty { break }
            if line.hasPrefix("  /") && !line.hasPrefix("   ") {
                currentPath = String(line.dropFirst(2).dropLast())
                if currentPath?.hasPrefix("'") == true { currentPath = String(currentPath!.dropFirst().dropLast()) }
            } else if line.hasPrefix("    ") && !line.hasPrefix("     "), let path = currentPath {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if methods.contains(String(key)) { operations.insert("\(key.uppercased()) \(path)") }
            }
        }
        return operations
    }

    func testEveryRouteIsDocumentedAndEveryDocumentedOperationIsServed() throws {
        let app = try TestApp()
        defer { app.stop() }
        let served = Set(app.app.routes.map { "\($0.method) \($0.template)" })
        let documented = try Self.documentedOperations()
        XCTAssertFalse(documented.isEmpty)
        XCTAssertEqual(served.subtracting(documented).sorted(), [], "routes missing from openapi.yaml")
        XCTAssertEqual(documented.subtracting(served).sorted(), [], "operations in openapi.yaml the server does not serve")
        // Every catalogue resource has its standard operations documented.
        for spec in ResourceCatalogue.resources {
            for operation in ["GET /v1/\(spec.name)", "POST /v1/\(spec.name)", "GET /v1/\(spec.name)/{id}", "PATCH /v1/\(spec.name)/{id}",
                              "DELETE /v1/\(spec.name)/{id}", "GET /v1/\(spec.name)/{id}/history"] {
                XCTAssertTrue(documented.contains(operation), "\(operation) is not in openapi.yaml")
            }
        }
    }

    /// What the documented GETs that are not JSON answer with.
    private static let nonJSONTypes = [
        "/openapi.yaml": "application/yaml; charset=utf-8", "/": "text/html; charset=utf-8",
        "/app.js": "text/javascript; charset=utf-8", "/style.css": "text/css; charset=utf-8",
    ]

    /// The query a documented GET needs to succeed, where it has required parameters.
    private static let requiredQueries = [
        "/v1/tariff-rates": "?imposed_by=USA&imposed_on=CHN",
        "/v1/tariff-rates/history": "?imposed_by=USA&imposed_on=CHN&from=2025-01-01",
    ]

    func testDocumentedOperationsAnswerOverTheSocket() throws {
        let app = try TestApp()
        defer { app.stop() }
        let client = app.client()
        for operation in try Self.documentedOperations() where operation.hasPrefix("GET ") && !operation.contains("{") {
            let path = String(operation.dropFirst(4))
            let response = try client.request("GET", path + (Self.requiredQueries[path] ?? ""))
            XCTAssertEqual(response.status, 200, "\(operation): \(response.text)")
            let contentType = response.headers["Content-Type"] ?? ""
            if let expected = Self.nonJSONTypes[path] {
                XCTAssertEqual(contentType, expected, operation)
            } else {
                XCTAssertEqual(contentType, "application/json; charset=utf-8", operation)
                XCTAssertNoThrow(try response.json(), operation)
            }
        }
    }
}
