import XCTest
import HTTPServer
@testable import TradeTracker

/// Regression tests for convention bugs found in review: control bytes in `q`, and cursors of one sub-list accepted by another.
final class ConventionRegressionTests: XCTestCase {
    var api: ConventionAPI!

    override func setUpWithError() throws {
        api = try ConventionAPI {
            $0.loadDemoData = true
            $0.demoFile = DemoDataTests.demoFile
        }
    }

    override func tearDown() { api.stop() }

    /// BUG: a NUL (or other control character) in `q` reaches FTS5 and fails as SQL ("unterminated string") → 500.
    /// Expected 400 `invalid_parameter` naming `?q` (API.md §1: a value a parameter cannot take → 400 naming it).
    func testControlCharacterInSearchIs400NotAn500() throws {
        for list in ["rounds", "participants", "issues", "statements", "negotiations", "sources"] {
            assertBadParameter(try api.get("/v1/\(list)?q=a%00b"), "q", "GET /v1/\(list)?q=a%00b")
        }
    }

    /// BUG: both attendance lists sign their cursors as resource "round-participants", so a cursor of
    /// `/v1/rounds/{id}/participants` (keys: role rank, participant_id) is accepted by `/v1/participants/{id}/rounds`
    /// (keys: starts_on, round_id) and yields a page of another query. Expected 400 naming `?cursor`.
    func testCursorOfOneAttendanceListIsRefusedByTheOther() throws {
        let geneva = try XCTUnwrap(try api.get("/v1/rounds?q=geneva").ids().first)
        let cursor = try XCTUnwrap(try api.get("/v1/rounds/\(geneva)/participants?limit=1").nextCursor())
        let bessent = try XCTUnwrap(try api.get("/v1/participants?q=bessent").ids().first)
        assertBadParameter(try api.get("/v1/participants/\(bessent)/rounds?cursor=\(cursor)"), "cursor",
                           "a rounds/{id}/participants cursor on participants/{id}/rounds")
    }

    /// BUG: issue-update cursors name only the resource ("issue-updates"), not the issue, so a cursor made on
    /// issue A's updates is accepted on issue B's, which then starts after A's last key (skipping B's notes with lower ids).
    /// Expected 400 naming `?cursor` (a foreign cursor).
    func testCursorOfOneIssuesUpdatesIsRefusedOnAnotherIssue() throws {
        let issues = try api.get("/v1/issues").ids()
        XCTAssertEqual(issues.count, 3)
        let cursor = try XCTUnwrap(try api.get("/v1/issues/\(issues[0])/updates?limit=1").nextCursor())
        assertBadParameter(try api.get("/v1/issues/\(issues[1])/updates?cursor=\(cursor)"), "cursor",
                           "issue \(issues[0])'s cursor on issue \(issues[1])")
        // Same cursor on the issue it was made for still works.
        XCTAssertEqual(try api.get("/v1/issues/\(issues[0])/updates?cursor=\(cursor)").status, 200)
    }
}
