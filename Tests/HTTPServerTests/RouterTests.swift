import XCTest
@testable import HTTPServer

final class RouterTests: XCTestCase {
    private func makeRouter() -> Router {
        var router = Router()
        router.add("GET", "/v1/rounds") { _ in .text("list") }
        router.add("POST", "/v1/rounds") { _ in .text("create") }
        router.add("GET", "/v1/rounds/{id}") { _ in .text("one") }
        router.add("PATCH", "/v1/rounds/{id}") { _ in .text("patch") }
        router.add("DELETE", "/v1/rounds/{id}") { _ in .text("delete") }
        router.add("GET", "/v1/rounds/{id}/issues/{issue}") { _ in .text("issue") }
        router.add("GET", "/v1/rounds/latest") { _ in .text("latest") }
        router.add("POST", "/v1/only-post") { _ in .text("posted") }
        return router
    }

    /// The handler's body text, template and parameters of a found route; fails otherwise.
    private func found(_ method: String, _ path: String, file: StaticString = #filePath, line: UInt = #line)
        throws -> (body: String, template: String, parameters: PathParameters)? {
        guard case .found(let handler, let template, let parameters) = try makeRouter().match(method: method, path: path) else {
            XCTFail("\(method) \(path) should be found", file: file, line: line)
            return nil
        }
        let response = try handler(HTTPRequest(method: method, target: path))
        return (String(decoding: response.body, as: UTF8.self), template, parameters)
    }

    func testLiteralAndTemplateRoutes() throws {
        let list = try found("GET", "/v1/rounds")
        XCTAssertEqual(list?.body, "list")
        XCTAssertEqual(list?.template, "/v1/rounds")
        XCTAssertEqual(try found("POST", "/v1/rounds")?.body, "create")

        let one = try found("GET", "/v1/rounds/42")
        XCTAssertEqual(one?.body, "one")
        XCTAssertEqual(one?.template, "/v1/rounds/{id}")
        XCTAssertEqual(one?.parameters, ["id": "42"])

        let issue = try found("GET", "/v1/rounds/7/issues/rare-earths")
        XCTAssertEqual(issue?.template, "/v1/rounds/{id}/issues/{issue}")
        XCTAssertEqual(issue?.parameters, ["id": "7", "issue": "rare-earths"])

        XCTAssertEqual(try found("GET", "/v1/rounds/latest")?.body, "latest", "a literal wins over a parameter")
    }

    func testParametersArePercentDecoded() throws {
        XCTAssertEqual(try found("GET", "/v1/rounds/a%20b")?.parameters, ["id": "a b"])
        XCTAssertEqual(try found("GET", "/v1/rounds/caf%C3%A9")?.parameters, ["id": "café"])
        XCTAssertEqual(try found("GET", "/v1/rounds/a+b")?.parameters, ["id": "a+b"], "+ is not a space in a path")
        XCTAssertEqual(try found("GET", "/v1/rounds/%2F")?.parameters, ["id": "/"])
    }

    func testMalformedPercentEncodingIs400() {
        for path in ["/v1/rounds/%zz", "/v1/rounds/%4", "/v1/rounds/%FF"] {
            XCTAssertThrowsError(try makeRouter().match(method: "GET", path: path), path) { error in
                XCTAssertEqual((error as? HTTPFailure)?.status, 400)
            }
        }
    }

    /// Segments are compared byte for byte: a literal that is a prefix or an extension of another, or differs in
    /// case, is not it; a parameter takes any non-empty segment and is matched by name.
    func testLiteralSegmentsMatchExactly() throws {
        var router = Router()
        router.add("GET", "/v1/rounds") { _ in .text("rounds") }
        router.add("GET", "/v1/round") { _ in .text("round") }
        router.add("GET", "/v1/roundsx") { _ in .text("roundsx") }
        router.add("GET", "/v1/{kind}/{id}") { _ in .text("any") }
        router.add("GET", "/") { _ in .text("root") }
        for (path, body) in [("/v1/rounds", "rounds"), ("/v1/round", "round"), ("/v1/roundsx", "roundsx"), ("/", "root")] {
            guard case .found(let handler, _, _) = try router.match(method: "GET", path: path) else { XCTFail(path); continue }
            XCTAssertEqual(String(decoding: try handler(HTTPRequest(method: "GET", target: path)).body, as: UTF8.self), body, path)
        }
        guard case .found(_, let template, let parameters) = try router.match(method: "GET", path: "/v1/Rounds/7") else {
            return XCTFail("/v1/Rounds/7 should reach the parameter route")
        }
        XCTAssertEqual(template, "/v1/{kind}/{id}")
        XCTAssertEqual(parameters["kind"], "Rounds")
        XCTAssertEqual(parameters["id"], "7")
        XCTAssertNil(parameters["other"])
        XCTAssertEqual(parameters, ["id": "7", "kind": "Rounds"], "equal whatever the order")
        XCTAssertNotEqual(parameters, ["id": "7"])
    }

    func testUnknownPathsAre404() throws {
        for path in ["/", "/v1", "/v1/round", "/v1/rounds/1/extra", "/v1/rounds/", "/v1/rounds//issues/x", "/V1/rounds"] {
            guard case .notFound = try makeRouter().match(method: "GET", path: path) else {
                XCTFail("\(path) should be 404")
                continue
            }
        }
    }

    func testWrongMethodIs405WithAllow() throws {
        guard case .methodNotAllowed(let allowed, let template) = try makeRouter().match(method: "PUT", path: "/v1/rounds/3") else {
            return XCTFail("PUT should be 405")
        }
        XCTAssertEqual(allowed, ["GET", "HEAD", "PATCH", "DELETE", "OPTIONS"])
        XCTAssertEqual(template, "/v1/rounds/{id}")

        guard case .methodNotAllowed(let postOnly, _) = try makeRouter().match(method: "GET", path: "/v1/only-post") else {
            return XCTFail("GET should be 405")
        }
        XCTAssertEqual(postOnly, ["POST", "OPTIONS"], "no HEAD without GET")
    }

    func testHeadIsRoutedToGet() throws {
        XCTAssertEqual(try found("HEAD", "/v1/rounds/9")?.body, "one")
        guard case .methodNotAllowed = try makeRouter().match(method: "HEAD", path: "/v1/only-post") else {
            return XCTFail("HEAD without GET should be 405")
        }
    }

    func testOptionsListsAllowedMethods() throws {
        guard case .options(let allowed, let template) = try makeRouter().match(method: "OPTIONS", path: "/v1/rounds") else {
            return XCTFail("OPTIONS should be answered")
        }
        XCTAssertEqual(allowed, ["GET", "HEAD", "POST", "OPTIONS"])
        XCTAssertEqual(template, "/v1/rounds")
        guard case .options = try makeRouter().match(method: "OPTIONS", path: "*") else {
            return XCTFail("OPTIONS * should be answered")
        }
        guard case .notFound = try makeRouter().match(method: "OPTIONS", path: "/nowhere") else {
            return XCTFail("OPTIONS on an unknown path is 404")
        }
    }

    func testResponderRendersRoutingOutcomes() {
        let responder = Responder(router: makeRouter(), renderer: TestProblemRenderer())
        let notFound = responder.respond(to: HTTPRequest(method: "GET", target: "/nope"))
        XCTAssertEqual(notFound.status, 404)
        XCTAssertEqual(notFound.headers["Content-Type"], "application/problem+json")

        let notAllowed = responder.respond(to: HTTPRequest(method: "PUT", target: "/v1/rounds"))
        XCTAssertEqual(notAllowed.status, 405)
        XCTAssertEqual(notAllowed.headers["Allow"], "GET, HEAD, POST, OPTIONS")

        let options = responder.respond(to: HTTPRequest(method: "OPTIONS", target: "/v1/rounds/5"))
        XCTAssertEqual(options.status, 204)
        XCTAssertEqual(options.headers["Allow"], "GET, HEAD, PATCH, DELETE, OPTIONS")

        let badEscape = responder.respond(to: HTTPRequest(method: "GET", target: "/v1/rounds/%zz"))
        XCTAssertEqual(badEscape.status, 400)

        let ok = responder.respond(to: HTTPRequest(method: "GET", target: "/v1/rounds/5?x=1"))
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(String(decoding: ok.body, as: UTF8.self), "one")
    }
}
