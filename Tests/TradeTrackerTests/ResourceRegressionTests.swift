import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// Regression tests for per-resource bugs found in review (all problems in one 422, cross-field rules on the merged
/// record, references checked on sub-resources, length caps counted in code points as SQLite counts them).
final class ResourceRegressionTests: XCTestCase {
    var app: TestApp!
    var api: ResourceAPI!
    var negotiation = 0

    override func setUpWithError() throws {
        app = try Fixtures.app()
        api = ResourceAPI(app)
        negotiation = try api.negotiation()
    }

    override func tearDown() { app.stop() }

    // Bug 1. API.md §1: "All problems of a body are reported at once". When every field decodes, ResourceRoutes.insertRecord
    // (and patch) throws the cross-field problems first and only checks references when there are none, so a body
    // with both kinds gets two round trips. Fix: collect `spec.validate(values)` and `store.missingReferences(...)`
    // into one list and throw once (ResourceRoutes.insertRecord and ResourceRoutes.patch).
    func testCrossFieldAndReferenceProblemsAreReportedTogether() throws {
        let response = try api.post("/v1/rounds", #"""
            {"negotiation_id":9999,"title":"Geneva talks","city":"Geneva","country":"CHE","starts_on":"2025-05-11","ends_on":"2025-05-10"}
            """#)
        Problems.assertValidation(response, ["/ends_on", "/negotiation_id"])
    }

    // Bug 2. Same rule, sub-resources: Attendance's and IssueUpdates' POST handlers throw the field problems
    // (`guard problems.isEmpty else { throw ... }`) before references are checked, so a bad role and a missing
    // participant are reported one at a time. Fix: when problems is non-empty, add
    // `ResourceStore(spec:).missingReferences` (read transaction) to them as ResourceRoutes.reportAll does.
    func testAttendanceReportsABadRoleAndAMissingParticipantTogether() throws {
        let round = try api.round(negotiation: negotiation)
        Problems.assertValidation(try api.post("/v1/rounds/\(round)/participants", #"{"participant_id":9999,"role":"chief"}"#),
                                  ["/participant_id", "/role"])
    }

    func testIssueUpdateReportsAnEmptyNoteAndAMissingRoundTogether() throws {
        let issue = try api.issue(negotiation: negotiation)
        Problems.assertValidation(try api.post("/v1/issues/\(issue)/updates", #"{"note":"","occurred_on":"2025-05-10","round_id":9999}"#),
                                  ["/note", "/round_id"])
    }

    // Bug 3. ResourceRoutes.reportAll runs the cross-field rules on the values that *did* decode (create) or on the
    // patch alone instead of the merged record (patch). So a field that failed to decode looks absent and draws a
    // spurious error, and a patch's cross-field errors against the stored record are missed.
    // Fix: in reportAll, skip cross-field problems that involve a field already reported, and for PATCH run
    // `spec.validate` on the stored record merged with the changes (needs the row: do it inside the write, or read it first).
    func testATooLongSpeakerIsReportedAloneWithoutASpuriousParticipantId() throws {
        let response = try api.post("/v1/statements", #"{"speaker":"\#(String(repeating: "s", count: 201))","said_on":"2025-05-12","text":"x"}"#)
        Problems.assertValidation(response, ["/speaker"])  // actual: ["/speaker", "/participant_id"] ("is required unless speaker names …")
    }

    func testPatchNullOnRequiredFieldsOfAStatementDoesNotBlameParticipantId() throws {
        let id = try api.statement(speaker: "A spokesperson")
        Problems.assertValidation(try api.patch("/v1/statements/\(id)", #"{"text":null}"#), ["/text"])  // actual: ["/text", "/participant_id"]
    }

    func testPatchReportsAFieldProblemAndADateOrderProblemTogether() throws {
        let id = try api.round(negotiation: negotiation, starts: "2025-05-10", ends: "2025-05-11")
        Problems.assertValidation(try api.patch("/v1/rounds/\(id)", #"{"title":"","ends_on":"2025-05-01"}"#),
                                  ["/title", "/ends_on"])  // actual: ["/title"]
    }

    // Bug 4. Text caps are counted in Swift Characters (FieldDecoder `.text`: `s.count`; also `.stringList`,
    // `.countryTextMap`) while the schema's CHECKs count SQLite length() = code points. A title of 101 flag emoji
    // (101 Characters, 202 code points) passes validation and then breaks `length(title) BETWEEN 1 AND 200`:
    // 422 with no `errors` ("the record breaks a storage rule"). Same for "é" written e + U+0301.
    // Fix: count `s.unicodeScalars.count` in FieldDecoder (what SQLite counts), and say so in openapi.yaml.
    func testTextCapsAgreeWithTheDatabase() throws {
        let flags = String(repeating: "🇺🇸", count: 101)
        let response = try api.post("/v1/negotiations", #"{"slug":"flags","title":"\#(flags)","parties":["USA","CHN"]}"#)
        Problems.assertValidation(response, ["/title"])  // actual: 422 without errors
        let combining = String(repeating: "e\u{301}", count: 150)
        Problems.assertValidation(try api.post("/v1/sources", #"{"title":"T","publisher":"\#(combining)"}"#), ["/publisher"])
    }
}
