import JSON
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// `/v1/issues` and `/v1/issues/{id}/updates` end to end (API.md §2).
final class IssuesTests: XCTestCase {
    var app: TestApp!
    var api: ResourceAPI!
    var negotiation = 0

    static let fields = ["negotiation_id", "category", "title", "description", "status", "priority", "positions"]
    static let updateFields = ["issue_id", "note", "occurred_on", "round_id", "source_id", "status"]

    override func setUpWithError() throws {
        app = try Fixtures.app()
        api = ResourceAPI(app)
        negotiation = try api.negotiation()
    }

    override func tearDown() { app.stop() }

    private func body(_ extra: String = "") -> String {
        #"{"negotiation_id":\#(negotiation),"category":"rare_earths","title":"Rare-earth export controls"\#(extra)}"#
    }

    // MARK: create and read

    func testCreateReturns201WithTheFullRecordAndDefaults() throws {
        let response = try api.post("/v1/issues", body())
        let json = try Lifecycle.assertCreated(response, collection: "/v1/issues", fields: Self.fields)
        XCTAssertEqual(json["negotiation_id"], .int(negotiation))
        XCTAssertEqual(json["category"], .string("rare_earths"))
        XCTAssertEqual(json["title"], .string("Rare-earth export controls"))
        XCTAssertEqual(json["description"], .null)
        XCTAssertEqual(json["status"], .string("open"), "status defaults to open")
        XCTAssertEqual(json["priority"], .string("medium"), "priority defaults to medium")
        XCTAssertEqual(json["positions"], .object([]), "positions default to an empty object")
        let id = try XCTUnwrap(json["id"]?.intValue)
        try Lifecycle.assertReads(api, "/v1/issues/\(id)", body: response.body, etag: response.headers["ETag"])
    }

    func testCreateWithEveryFieldKeepsPositionsPerCountry() throws {
        let response = try api.post("/v1/issues", body(#"""
            ,"description":"Licensing of seven rare earths","status":"in_discussion","priority":"high",
            "positions":{"USA":"Lift the April 4 controls","CHN":"Licences case by case"}
            """#))
        let json = try Lifecycle.assertCreated(response, collection: "/v1/issues", fields: Self.fields)
        XCTAssertEqual(json["status"], .string("in_discussion"))
        XCTAssertEqual(json["priority"], .string("high"))
        XCTAssertEqual(json["description"], .string("Licensing of seven rare earths"))
        XCTAssertEqual(json["positions"], .object([("USA", .string("Lift the April 4 controls")), ("CHN", .string("Licences case by case"))]))
    }

    func testEveryCategoryStatusAndPriorityIsAccepted() throws {
        for category in ["tariffs", "rare_earths", "fentanyl_precursors", "export_controls", "market_access", "agriculture", "technology", "other"] {
            try api.issue(negotiation: negotiation, category: category)
        }
        for status in ["open", "in_discussion", "tentative_agreement", "agreed", "stalled", "dropped"] {
            try api.issue(negotiation: negotiation, extra: #","status":"\#(status)""#)
        }
        for priority in ["high", "medium", "low"] {
            try api.issue(negotiation: negotiation, extra: #","priority":"\#(priority)""#)
        }
    }

    // MARK: update

    func testPatchChangesFieldsClearsWithNullAndBumpsVersion() throws {
        let created = try api.post("/v1/issues", body(#","description":"draft","positions":{"USA":"a"}"#))
        let before = try created.json()
        let id = try XCTUnwrap(before["id"]?.intValue)
        Lifecycle.tick()
        let patched = try api.patch("/v1/issues/\(id)", #"{"description":null,"priority":"high","positions":{"USA":"a","CHN":"b"}}"#)
        XCTAssertEqual(patched.status, 200, patched.text)
        let json = try patched.json()
        XCTAssertEqual(json["description"], .null)
        XCTAssertEqual(json["priority"], .string("high"))
        XCTAssertEqual(json["positions"], .object([("USA", .string("a")), ("CHN", .string("b"))]))
        XCTAssertEqual(json["version"], .int(2))
        XCTAssertEqual(json["created_at"], before["created_at"])
        XCTAssertGreaterThan(json["updated_at"]?.stringValue ?? "", before["updated_at"]?.stringValue ?? "")
        try Lifecycle.assertReads(api, "/v1/issues/\(id)", body: patched.body, etag: patched.headers["ETag"])
        XCTAssertEqual(try api.patch("/v1/issues/\(id)", #"{"priority":"high"}"#).text, patched.text, "no change, same version")

        Problems.assertValidation(try api.patch("/v1/issues/\(id)", #"{"title":null,"category":null,"negotiation_id":null}"#),
                                  ["/title", "/category", "/negotiation_id"])
        Problems.assertValidation(try api.patch("/v1/issues/\(id)", #"{"negotiation_id":9999}"#), ["/negotiation_id"])
        XCTAssertEqual(try api.get("/v1/issues/\(id)").json()["version"], .int(2))
    }

    func testPatchMergesPositionsPerCountry() throws {
        // RFC 7396: an object in a merge patch is merged member by member; null removes a member.
        let id = try api.issue(negotiation: negotiation, extra: #","positions":{"USA":"Lift the controls","CHN":"Case by case"}"#)
        let added = try api.patch("/v1/issues/\(id)", #"{"positions":{"EUN":"Watching"}}"#)
        XCTAssertEqual(added.status, 200, added.text)
        // Member order carries no meaning in a JSON object: compare sorted.
        func sorted(_ value: JSONValue?) -> [String: JSONValue] {
            Dictionary(uniqueKeysWithValues: value?.objectValue?.map { ($0.0, $0.1) } ?? [])
        }
        XCTAssertEqual(sorted(try added.json()["positions"]),
                       ["USA": .string("Lift the controls"), "CHN": .string("Case by case"), "EUN": .string("Watching")])
        let removed = try api.patch("/v1/issues/\(id)", #"{"positions":{"CHN":null,"USA":"Lift all controls"}}"#)
        XCTAssertEqual(removed.status, 200, removed.text)
        XCTAssertEqual(sorted(try removed.json()["positions"]), ["USA": .string("Lift all controls"), "EUN": .string("Watching")])
        XCTAssertEqual(try removed.json()["version"], .int(3))
        Problems.assertValidation(try api.patch("/v1/issues/\(id)", #"{"positions":{"usa":"x"}}"#), ["/positions/usa"])
    }

    // MARK: validation

    func testRequiredFieldsTypesAndEnumerations() throws {
        Problems.assertValidation(try api.post("/v1/issues", "{}"), ["/negotiation_id", "/category", "/title"])
        Problems.assertValidation(try api.post("/v1/issues", body(#","status":"closed","priority":"urgent""#)), ["/status", "/priority"])
        Problems.assertValidation(try api.post("/v1/issues", body().replacingOccurrences(of: "rare_earths", with: "rare-earths")), ["/category"])
        Problems.assertValidation(try api.post("/v1/issues", #"{"negotiation_id":true,"category":1,"title":["t"],"description":2}"#),
                                  ["/negotiation_id", "/category", "/title", "/description"])
        Problems.assertValidation(try api.post("/v1/issues", body().replacingOccurrences(of: "Rare-earth export controls", with: String(repeating: "t", count: 201))),
                                  ["/title"])
        XCTAssertEqual(try app.count("issues"), 0)
    }

    func testPositionsMapKnownCountryCodesToText() throws {
        Problems.assertValidation(try api.post("/v1/issues", body(#","positions":{"usa":"lower case"}"#)), ["/positions/usa"])
        Problems.assertValidation(try api.post("/v1/issues", body(#","positions":{"XXX":"unknown"}"#)), ["/positions/XXX"])
        Problems.assertValidation(try api.post("/v1/issues", body(#","positions":{"USA":5,"CHN":""}"#)), ["/positions/USA", "/positions/CHN"])
        Problems.assertValidation(try api.post("/v1/issues", body(#","positions":["USA"]"#)), ["/positions"])
        XCTAssertEqual(try app.count("issues"), 0)
    }

    func testAMissingNegotiationIs422NamingTheField() throws {
        let response = try api.post("/v1/issues", #"{"negotiation_id":9999,"category":"tariffs","title":"T"}"#)
        Problems.assertValidation(response, ["/negotiation_id"])
        XCTAssertTrue(Problems.message(response, "/negotiation_id")?.contains("9999") ?? false)
    }

    func testUnknownReadOnlyAndSeveralProblemsTogether() throws {
        Problems.assertValidation(try api.post("/v1/issues", body(#","severity":"high""#)), ["/severity"])
        Problems.assertValidation(try api.post("/v1/issues", body(#","id":1,"version":1"#)), ["/id", "/version"])
        Problems.assertValidation(try api.post("/v1/issues", #"{"negotiation_id":9999,"category":"steel","positions":{"usa":"x"},"updated_at":"x"}"#),
                                  ["/negotiation_id", "/category", "/positions/usa", "/updated_at", "/title"])
    }

    // MARK: delete

    func testDeleteIs204ThenGone() throws {
        let id = try api.issue(negotiation: negotiation)
        try Lifecycle.assertDeletes(api, "/v1/issues/\(id)")
    }

    func testDeletingAnIssueThatHasUpdatesIsRefused() throws {
        let id = try api.issue(negotiation: negotiation)
        try api.create("/v1/issues/\(id)/updates", #"{"note":"Raised in Geneva","occurred_on":"2025-05-10"}"#)
        try api.create("/v1/issues/\(id)/updates", #"{"note":"Raised again","occurred_on":"2025-05-11"}"#)
        let refused = try api.delete("/v1/issues/\(id)")
        let json = Problems.assertProblem(refused, status: 409, code: "referenced")
        XCTAssertEqual(json?["referenced_by"], .object([("issue-updates", .int(2))]))
        XCTAssertTrue(json?["detail"]?.stringValue?.contains("issue updates") ?? false, refused.text)
        XCTAssertEqual(try api.get("/v1/issues/\(id)").status, 200, "still there")
        XCTAssertEqual(try api.get("/v1/issues/\(id)/updates").json()["data"]?.arrayValue?.count, 2)
        XCTAssertEqual(try app.changeRows("issues", id).map(\.action), ["created"])
    }

    // MARK: updates

    func testAnUpdateWithoutStatusLeavesTheIssueAlone() throws {
        let id = try api.issue(negotiation: negotiation)
        let response = try api.post("/v1/issues/\(id)/updates", #"{"note":"Raised in Geneva","occurred_on":"2025-05-10"}"#)
        XCTAssertEqual(response.status, 201, response.text)
        XCTAssertNotNil(response.headers["ETag"])
        let json = try response.json()
        let updateID = try XCTUnwrap(json["id"]?.intValue)
        XCTAssertEqual(response.headers["Location"], "/v1/issues/\(id)/updates/\(updateID)")
        XCTAssertEqual(json.keys, ["id"] + Self.updateFields + ["created_at", "updated_at", "version"])
        XCTAssertEqual(json["issue_id"], .int(id))
        XCTAssertEqual(json["note"], .string("Raised in Geneva"))
        XCTAssertEqual(json["occurred_on"], .string("2025-05-10"))
        XCTAssertEqual(json["round_id"], .null)
        XCTAssertEqual(json["source_id"], .null)
        XCTAssertEqual(json["status"], .null)
        XCTAssertEqual(json["version"], .int(1))

        let issue = try api.get("/v1/issues/\(id)").json()
        XCTAssertEqual(issue["status"], .string("open"))
        XCTAssertEqual(issue["version"], .int(1))
        XCTAssertEqual(try app.changeRows("issues", id).map(\.action), ["created"])
    }

    func testAnUpdateWithStatusMovesTheIssueInTheSameWrite() throws {
        let id = try api.issue(negotiation: negotiation)
        let negotiationRound = try api.round(negotiation: negotiation)
        let source = try api.source(url: "https://example.org/joint-statement")
        let response = try api.post("/v1/issues/\(id)/updates", #"""
            {"note":"Both sides agree to cut tariffs for 90 days","occurred_on":"2025-05-12","status":"tentative_agreement",
             "round_id":\#(negotiationRound),"source_id":\#(source)}
            """#, headers: [("X-Request-ID", "update-status-1")])
        XCTAssertEqual(response.status, 201, response.text)
        let update = try response.json()
        XCTAssertEqual(update["status"], .string("tentative_agreement"))
        XCTAssertEqual(update["round_id"], .int(negotiationRound))
        XCTAssertEqual(update["source_id"], .int(source))

        let issue = try api.get("/v1/issues/\(id)").json()
        XCTAssertEqual(issue["status"], .string("tentative_agreement"))
        XCTAssertEqual(issue["version"], .int(2))

        // Both writes are logged under the one request.
        let issueRows = try app.changeRows("issues", id)
        XCTAssertEqual(issueRows.map(\.action), ["created", "updated"])
        XCTAssertEqual(issueRows[1].requestID, "update-status-1")
        XCTAssertEqual(issueRows[1].actor, "writer")
        XCTAssertEqual(issueRows[1].changes, .object([("status", .change(.string("open"), .string("tentative_agreement")))]))
        let updateRows = try app.changeRows("issue-updates", try XCTUnwrap(update["id"]?.intValue))
        XCTAssertEqual(updateRows.map(\.action), ["created"])
        XCTAssertEqual(updateRows[0].requestID, "update-status-1")
        XCTAssertEqual(updateRows[0].changes["status"], .change(.null, .string("tentative_agreement")))
        XCTAssertEqual(updateRows[0].changes["issue_id"], .change(.null, .int(id)))

        // A note repeating the current status does not bump the issue.
        XCTAssertEqual(try api.post("/v1/issues/\(id)/updates", #"{"note":"Still tentative","occurred_on":"2025-05-13","status":"tentative_agreement"}"#).status, 201)
        XCTAssertEqual(try api.get("/v1/issues/\(id)").json()["version"], .int(2))
        // A refused note moves nothing.
        Problems.assertValidation(try api.post("/v1/issues/\(id)/updates", #"{"note":"x","occurred_on":"2025-05-14","status":"agreed","round_id":9999}"#),
                                  ["/round_id"])
        XCTAssertEqual(try api.get("/v1/issues/\(id)").json()["status"], .string("tentative_agreement"))
        XCTAssertEqual(try app.count("issue_updates"), 2)
    }

    func testTheLocationOfANewIssueUpdateCanBeFetched() throws {
        let issue = try api.issue(negotiation: negotiation)
        let created = try api.post("/v1/issues/\(issue)/updates", #"{"note":"Raised in Geneva","occurred_on":"2025-05-10"}"#)
        XCTAssertEqual(created.status, 201)
        let location = try XCTUnwrap(created.headers["Location"])
        let fetched = try api.get(location)
        XCTAssertEqual(fetched.status, 200, fetched.text)
        XCTAssertEqual(fetched.text, created.text)
        XCTAssertEqual(fetched.headers["ETag"], created.headers["ETag"])
    }

    func testUpdatesAreListedOldestFirst() throws {
        let id = try api.issue(negotiation: negotiation)
        let other = try api.issue(negotiation: negotiation)
        var created: [Int] = []
        for (day, note) in [("2025-05-10", "first"), ("2025-05-11", "second"), ("2025-05-12", "third")] {
            created.append(try api.create("/v1/issues/\(id)/updates", #"{"note":"\#(note)","occurred_on":"\#(day)"}"#))
        }
        try api.create("/v1/issues/\(other)/updates", #"{"note":"elsewhere","occurred_on":"2025-05-09"}"#)

        let response = try api.get("/v1/issues/\(id)/updates")
        XCTAssertEqual(response.status, 200)
        XCTAssertNotNil(response.headers["ETag"])
        let json = try response.json()
        let data = try XCTUnwrap(json["data"]?.arrayValue)
        XCTAssertEqual(data.map { $0["id"] }, created.map { .int($0) })
        XCTAssertEqual(data.map { $0["note"] }, [.string("first"), .string("second"), .string("third")])
        XCTAssertEqual(json["next_cursor"], .null)
        Problems.assertProblem(try api.get("/v1/issues/9999/updates"), status: 404, code: "not_found")
    }

    func testUpdateValidation() throws {
        let id = try api.issue(negotiation: negotiation)
        let path = "/v1/issues/\(id)/updates"
        Problems.assertValidation(try api.post(path, "{}"), ["/note", "/occurred_on"])
        Problems.assertValidation(try api.post(path, #"{"note":"","occurred_on":"2025-02-30"}"#), ["/note", "/occurred_on"])
        Problems.assertValidation(try api.post(path, #"{"note":"n","occurred_on":"2025-05-10","status":"closed"}"#), ["/status"])
        Problems.assertValidation(try api.post(path, #"{"note":"n","occurred_on":"2025-05-10","issue_id":\#(id)}"#), ["/issue_id"])
        Problems.assertValidation(try api.post(path, #"{"note":"n","occurred_on":"2025-05-10","author":"me"}"#), ["/author"])
        Problems.assertValidation(try api.post(path, #"{"note":"n","occurred_on":"2025-05-10","id":1,"version":1}"#), ["/id", "/version"])
        Problems.assertValidation(try api.post(path, #"{"note":"n","occurred_on":"2025-05-10","round_id":9999,"source_id":9999}"#),
                                  ["/round_id", "/source_id"])
        Problems.assertValidation(try api.post(path, #"{"note":5,"occurred_on":20250510,"round_id":"1"}"#), ["/note", "/occurred_on", "/round_id"])
        Problems.assertProblem(try api.post("/v1/issues/9999/updates", #"{"note":"n","occurred_on":"2025-05-10"}"#), status: 404, code: "not_found")
        XCTAssertEqual(try app.count("issue_updates"), 0)
        XCTAssertEqual(try api.get("/v1/issues/\(id)").json()["version"], .int(1))
    }

    func testDeletingAnUpdate() throws {
        let id = try api.issue(negotiation: negotiation)
        let keep = try api.create("/v1/issues/\(id)/updates", #"{"note":"keep","occurred_on":"2025-05-10"}"#)
        let drop = try api.create("/v1/issues/\(id)/updates", #"{"note":"drop","occurred_on":"2025-05-11"}"#)
        let other = try api.issue(negotiation: negotiation)

        Problems.assertProblem(try api.delete("/v1/issues/\(other)/updates/\(drop)"), status: 404, code: "not_found")
        let deleted = try api.delete("/v1/issues/\(id)/updates/\(drop)")
        XCTAssertEqual(deleted.status, 204)
        XCTAssertTrue(deleted.body.isEmpty)
        let data = try api.get("/v1/issues/\(id)/updates").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(data.map { $0["id"] }, [.int(keep)])
        Problems.assertProblem(try api.delete("/v1/issues/\(id)/updates/\(drop)"), status: 404, code: "not_found")

        let rows = try app.changeRows("issue-updates", drop)
        XCTAssertEqual(rows.map(\.action), ["created", "deleted"])
        XCTAssertEqual(rows[1].requestID, deleted.headers["X-Request-ID"])
        XCTAssertEqual(rows[1].changes["note"], .change(.string("drop"), .null))

        // With its last update gone, the issue may be deleted.
        XCTAssertEqual(try api.delete("/v1/issues/\(id)/updates/\(keep)").status, 204)
        XCTAssertEqual(try api.delete("/v1/issues/\(id)").status, 204)
    }

    // MARK: change log

    func testEveryWriteAppendsItsChangeRow() throws {
        let created = try api.post("/v1/issues", body(#","positions":{"USA":"a"}"#))
        let id = try XCTUnwrap(try created.json()["id"]?.intValue)
        let patched = try api.patch("/v1/issues/\(id)", #"{"positions":{"USA":"a","CHN":"b"},"status":"stalled","title":"Rare-earth export controls"}"#)
        XCTAssertEqual(patched.status, 200)
        let deleted = try api.delete("/v1/issues/\(id)")
        XCTAssertEqual(deleted.status, 204)

        let rows = try app.changeRows("issues", id)
        XCTAssertEqual(rows.map(\.action), ["created", "updated", "deleted"])
        XCTAssertEqual(rows.map(\.actor), ["writer", "writer", "writer"])
        XCTAssertEqual(rows.map(\.requestID), [created.headers["X-Request-ID"], patched.headers["X-Request-ID"], deleted.headers["X-Request-ID"]])
        XCTAssertEqual(rows[0].changes, .object([
            ("negotiation_id", .change(.null, .int(negotiation))),
            ("category", .change(.null, .string("rare_earths"))),
            ("title", .change(.null, .string("Rare-earth export controls"))),
            ("description", .change(.null, .null)),
            ("status", .change(.null, .string("open"))),
            ("priority", .change(.null, .string("medium"))),
            ("positions", .change(.null, .object([("USA", .string("a"))]))),
        ]))
        XCTAssertEqual(rows[1].changes, .object([
            ("status", .change(.string("open"), .string("stalled"))),
            ("positions", .change(.object([("USA", .string("a"))]), .object([("USA", .string("a")), ("CHN", .string("b"))]))),
        ]))
        XCTAssertEqual(rows[2].changes.keys, Self.fields)
        XCTAssertEqual(rows[2].changes["status"], .change(.string("stalled"), .null))
    }
}
