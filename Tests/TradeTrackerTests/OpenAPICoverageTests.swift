import XCTest
import JSON
import Foundation
@testable import TradeTracker

/// Keeps openapi.yaml and the router in step: every route is documented and every documented operation is served.
final class OpenAPICoverageTests: XCTestCase {
    /// Each operation under `paths:` (`GET /v1/rounds/{id}`) with the lines of its block, read from the file's fixed
    /// two-space layout.
    static func documentedBlocks() throws -> [String: [Substring]] {
        let text = try String(contentsOf: TestApp.packageRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        var blocks: [String: [Substring]] = [:]
        var inPaths = false
        var currentPath: String?
        var currentOperation: String?
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if !line.hasPrefix(" ") && !line.isEmpty { break }
            if line.hasPrefix("  /") && !line.hasPrefix("   ") {
                currentPath = String(line.dropFirst(2).dropLast())
                if currentPath?.hasPrefix("'") == true { currentPath = String(currentPath!.dropFirst().dropLast()) }
                currentOperation = nil
            } else if line.hasPrefix("    ") && !line.hasPrefix("     "), let path = currentPath {
                let key = String(line.trimmingCharacters(in: .whitespaces).dropLast())
                currentOperation = methods.contains(key) ? "\(key.uppercased()) \(path)" : nil
                if let currentOperation { blocks[currentOperation] = [] }
            } else if let currentOperation {
                blocks[currentOperation]?.append(line)
            }
        }
        return blocks
    }

    /// `(METHOD, /path/{param})` pairs under `paths:`.
    static func documentedOperations() throws -> Set<String> {
        Set(try documentedBlocks().keys)
    }

    /// The documented operations whose block names the parameter `name` (as `#/components/parameters/<name>`).
    static func operations(taking name: String) throws -> Set<String> {
        Set(try documentedBlocks().filter { $0.value.contains { $0.contains("#/components/parameters/\(name)'") } }.keys)
    }

    /// Every GET documented with `format` exports CSV and NDJSON; every other API GET refuses `format`.
    func testExportsAreDocumentedWhereTheyAreServed() throws {
        let app = try TestApp()
        defer { app.stop() }
        let client = app.client()
        let exporting = try Self.operations(taking: "Format")
        XCTAssertGreaterThanOrEqual(exporting.count, 20)
        for operation in try Self.documentedOperations() where operation.hasPrefix("GET /v1/") && !operation.contains("{") {
            let path = String(operation.dropFirst(4))
            let joiner = Self.requiredQueries[path] == nil ? "?" : Self.requiredQueries[path]! + "&"
            let csv = try client.request("GET", path + joiner + "format=csv")
            let ndjson = try client.request("GET", path + joiner + "format=ndjson")
            if exporting.contains(operation) {
                XCTAssertEqual(csv.status, 200, operation)
                XCTAssertEqual(csv.headers["Content-Type"], "text/csv; charset=utf-8", operation)
                XCTAssertTrue(csv.text.hasSuffix("\r\n"), "\(operation): a header row at least")
                XCTAssertEqual(ndjson.status, 200, operation)
                XCTAssertEqual(ndjson.headers["Content-Type"], "application/x-ndjson", operation)
            } else {
                Problems.assertProblem(csv, status: 400, code: "invalid_parameter")
            }
        }
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
        "/metrics": "text/plain; version=0.0.4; charset=utf-8",
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
