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

/// `?` parameters renumbered for PostgreSQL. Pure: needs no server.
final class PGQuestionMarkTests: XCTestCase {
    func testNumbersQuestionMarksInOrder() {
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: "SELECT 1"), "SELECT 1")
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: "SELECT * FROM t WHERE a = ? AND b IN (?, ?)"),
                       "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)")
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: "?"), "$1")
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: "VALUES (?,?,?,?,?,?,?,?,?,?,?)"),
                       "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)")
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: "SELECT 'é' || ?"), "SELECT 'é' || $1")
    }

    func testLeavesQuestionMarksInsideLiteralsCommentsAndIdentifiers() {
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: "SELECT '?', ?"), "SELECT '?', $1")
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: "SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1")
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: #"SELECT E'\' ?', ?"#), #"SELECT E'\' ?', $1"#)
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: #"SELECT "col?", ? FROM "we""ird ?""#), #"SELECT "col?", $1 FROM "we""ird ?""#)
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: "SELECT ? -- and ?\n, ?"), "SELECT $1 -- and ?\n, $2")
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: "SELECT /* ? /* ? */ ? */ ?"), "SELECT /* ? /* ? */ ? */ $1")
        XCTAssertEqual(PGPlaceholders.numbered(questionMarks: "SELECT $$ ? $$, ?"), "SELECT $$ ? $$, $1")
    }
}
