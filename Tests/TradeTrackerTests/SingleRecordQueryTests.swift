import Foundation
import JSON
import XCTest
@testable import TradeTracker

/// A single record takes no query parameters: one given is named in a 400, as a list names an unknown one (and the
/// response cache cannot be filled with one entry per invented query).
final class SingleRecordQueryTests: ResourceAPITestCase {
    func testAQueryParameterOnARecordIsRefusedWithItsName() throws {
        let id = try api.create("/v1/sources", #"{"title":"one"}"#)
        for (query, name) in [("format=csv", "format"), ("foo=1&bar=2", "foo"), ("_=1733040000", "_")] {
            let response = try api.get("/v1/sources/\(id)?\(query)")
            XCTAssertEqual(response.status, 400, response.text)
            XCTAssertEqual(response.headers["Content-Type"], "application/problem+json")
            let problem = try response.json()
            XCTAssertEqual(problem["code"]?.stringValue, "invalid_parameter")
            XCTAssertEqual(problem["errors"]?.arrayValue?.first?["pointer"]?.stringValue, "?\(name)")
        }
        XCTAssertEqual(try api.get("/v1/sources/\(id)").status, 200)
        XCTAssertEqual(try api.get("/v1/sources/\(id)?").status, 200, "an empty query is no parameter")
        let negotiation = try api.negotiation()
        let slug = try api.get("/v1/negotiations/\(negotiation)").json()["slug"]?.stringValue ?? ""
        XCTAssertEqual(try api.get("/v1/negotiations/by-slug/\(slug)?format=csv").status, 400)
        XCTAssertEqual(try api.get("/v1/negotiations/by-slug/\(slug)").status, 200)
    }
}
