import JSON
import XCTest
import SQLite
@testable import TradeTracker

/// Rates are exact integers of hundredths, parsed from and written as JSON number text.
final class RatePercentTests: XCTestCase {
    func testParsesAtMostTwoDecimalsExactly() {
        XCTAssertEqual(RatePercent.hundredths(fromJSONNumber: "145"), 14_500)
        XCTAssertEqual(RatePercent.hundredths(fromJSONNumber: "12.5"), 1_250)
        XCTAssertEqual(RatePercent.hundredths(fromJSONNumber: "12.34"), 1_234)
        XCTAssertEqual(RatePercent.hundredths(fromJSONNumber: "0.07"), 7)
        XCTAssertEqual(RatePercent.hundredths(fromJSONNumber: "7.50"), 750)
        XCTAssertEqual(RatePercent.hundredths(fromJSONNumber: "7.500"), 750, "trailing zeros are not precision")
        XCTAssertEqual(RatePercent.hundredths(fromJSONNumber: "0"), 0)
        XCTAssertEqual(RatePercent.hundredths(fromJSONNumber: "1000"), 100_000)
    }

    func testRefusesWhatIsNotAnExactRate() {
        for text in ["12.345", "-1", "1e2", "1E2", "", "1.2.3", "1234567890", "12.3x", "."] {
            XCTAssertNil(RatePercent.hundredths(fromJSONNumber: text), text)
        }
    }

    func testWritesTheShortestExactNumber() {
        XCTAssertEqual(RatePercent.jsonNumber(hundredths: 14_500), "145")
        XCTAssertEqual(RatePercent.jsonNumber(hundredths: 1_250), "12.5")
        XCTAssertEqual(RatePercent.jsonNumber(hundredths: 1_234), "12.34")
        XCTAssertEqual(RatePercent.jsonNumber(hundredths: 1_205), "12.05")
        XCTAssertEqual(RatePercent.jsonNumber(hundredths: 7), "0.07")
        XCTAssertEqual(RatePercent.jsonNumber(hundredths: 0), "0")
        for value in [0, 1, 9, 10, 99, 100, 101, 750, 2_400, 99_999, 100_000] as [Int64] {
            XCTAssertEqual(RatePercent.hundredths(fromJSONNumber: RatePercent.jsonNumber(hundredths: value)).map(Int64.init), value)
        }
    }
}

/// Cursors are signed: they round-trip their payload, and any change to them, or another key, is refused.
final class CursorSigningTests: XCTestCase {
    let signer = CursorSigner(hasher: SipHash(k0: 0x1234_5678_9abc_def0, k1: 0x0fed_cba9_8765_4321))
    let payload = CursorSigner.Payload(scope: "rounds/3/participants", parameters: [["sort", "-starts_on"], ["status", "concluded"]],
                                       keys: [.text("2025-05-10"), .integer(42)])

    func testRoundTripsScopeParametersAndKeys() throws {
        let cursor = signer.encode(payload)
        XCTAssertTrue(cursor.utf8.allSatisfy { $0 < 0x80 && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "/") },
                      "URL-safe without escaping: \(cursor)")
        XCTAssertEqual(try signer.decode(cursor), payload)
    }

    func testRefusesATamperedOrForeignCursor() throws {
        let cursor = signer.encode(payload)
        let parts = cursor.split(separator: ".")
        var body = Array(parts[0].utf8)
        body[body.count / 2] = body[body.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let tampered = String(decoding: body, as: UTF8.self) + "." + parts[1]
        let other = CursorSigner(hasher: SipHash(k0: 1, k1: 2))
        for bad in [tampered, other.encode(payload), String(cursor.dropLast()), cursor + "0", "", ".", "abc", "x.0123456789abcdef"] {
            XCTAssertThrowsError(try signer.decode(bad), bad) { error in
                XCTAssertEqual((error as? Problem)?.status, 400)
                XCTAssertEqual((error as? Problem)?.code, "invalid_parameter")
            }
        }
    }
}

/// What a person types for `q` becomes FTS5 prefix terms and never FTS5 syntax.
final class FullTextQueryTests: XCTestCase {
    func testWordsBecomeQuotedPrefixTerms() {
        XCTAssertEqual(FullTextQuery.make("he lif"), #""he"* "lif"*"#)
        XCTAssertEqual(FullTextQuery.make("  Bessent  "), #""Bessent"*"#)
        XCTAssertEqual(FullTextQuery.make("a\tb\nc"), #""a"* "b"* "c"*"#)
    }

    func testSyntaxIsQuotedAway() throws {
        XCTAssertEqual(FullTextQuery.make(#"say "hi""#), #""say"* """hi"""*"#)
        // Each of these would be an FTS5 operator or a syntax error unquoted; quoted they are plain terms.
        let db = try SQLiteConnection(path: ":memory:", flags: [.readWrite, .create, .memory])
        defer { db.close() }
        try db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'unicode61 remove_diacritics 2'); INSERT INTO t VALUES ('NOT near OR'), ('Bessent')")
        for text in ["NOT", "near(", "OR AND", "x:y", "*", "\"", "(", "^start", "a-b", "col:val"] {
            XCTAssertNoThrow(try db.query("SELECT rowid FROM t WHERE t MATCH ?", [.text(FullTextQuery.make(text))]), text)
        }
        XCTAssertEqual(try db.query("SELECT rowid FROM t WHERE t MATCH ?", [.text(FullTextQuery.make("bÉss"))]).count, 1)
    }
}

final class EnglishTests: XCTestCase {
    func testTheIndefiniteArticleFollowsTheFirstLetter() {
        XCTAssertEqual(English.withArticle("issue"), "an issue")
        XCTAssertEqual(English.withArticle("export control"), "an export control")
        XCTAssertEqual(English.withArticle("in_progress"), "an in_progress")
        XCTAssertEqual(English.withArticle("Update"), "an Update")
        XCTAssertEqual(English.withArticle("round"), "a round")
        XCTAssertEqual(English.withArticle("tariff measure"), "a tariff measure")
        XCTAssertEqual(English.withArticle(""), "")
    }

    /// The message a client reads names the kind of record with the right article.
    func testAReferenceToAMissingIssueReadsAsEnglish() throws {
        let app = try Fixtures.app()
        defer { app.stop() }
        let response = try app.client().request("POST", "/v1/statements", json: #"{"issue_id":"x"}"#,
                                                headers: [("Authorization", "Bearer \(Fixtures.writeToken)")])
        XCTAssertEqual(response.status, 422, response.text)
        XCTAssertTrue(response.text.contains("must be the integer id of an issue"), response.text)
    }
}
