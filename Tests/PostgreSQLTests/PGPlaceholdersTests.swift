import XCTest
@testable import PostgreSQL

/// Pure: needs no server.
final class PGPlaceholdersTests: XCTestCase {
    func testCountsTheHighestParameter() {
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT 1"), 0)
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT $1"), 1)
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT $2, $1, $2"), 2)
        XCTAssertEqual(PGPlaceholders.count(in: "INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)"), 11)
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT $1::int8 + $2::int8"), 2)
    }

    func testIgnoresPlaceholdersInsideLiteralsCommentsAndIdentifiers() {
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT '$1', $1"), 1)
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT 'it''s $2', $1"), 1)
        XCTAssertEqual(PGPlaceholders.count(in: #"SELECT E'\' $2', $1"#), 1)
        XCTAssertEqual(PGPlaceholders.count(in: #"SELECT "col$2", $1 FROM "we""ird $3""#), 1)
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT $1 -- and $2\n"), 1)
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT /* $2 /* nested $3 */ still $4 */ $1"), 1)
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT $$ $2 $$, $body$ $3 $body$, $1"), 1)
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT a$2 FROM t WHERE x = $1"), 1)
        XCTAssertEqual(PGPlaceholders.count(in: "SELECT 'unterminated $2"), 0)
    }
}
