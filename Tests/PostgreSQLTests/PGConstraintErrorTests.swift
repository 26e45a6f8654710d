import XCTest
@testable import PostgreSQL

final class PGConstraintErrorTests: PGLiveTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try db.execute("""
            CREATE TABLE round (
                id int8 PRIMARY KEY,
                slug text NOT NULL CONSTRAINT round_slug_unique UNIQUE,
                rate int8 CONSTRAINT round_rate_range CHECK (rate BETWEEN 0 AND 100000)
            );
            CREATE TABLE quote (
                id int8 PRIMARY KEY,
                round_id int8 NOT NULL CONSTRAINT quote_round_fk REFERENCES round (id)
            );
            INSERT INTO round VALUES (1, 'geneva', 14500);
            """)
    }

    func testUniqueViolationCarriesTheConstraintName() {
        XCTAssertThrowsPGError(try db.run("INSERT INTO round (id, slug) VALUES ($1, $2)", [2, "geneva"])) { error in
            XCTAssertEqual(error.kind, .server)
            XCTAssertTrue(error.isUniqueViolation, "\(error)")
            XCTAssertEqual(error.sqlState, "23505")
            XCTAssertEqual(error.constraint, "round_slug_unique")
            XCTAssertEqual(error.table, "round")
            XCTAssertEqual(error.detail, "Key (slug)=(geneva) already exists.")
            XCTAssertEqual(error.sql, "INSERT INTO round (id, slug) VALUES ($1, $2)")
            XCTAssertFalse(error.isConnectionFailure)
            XCTAssertFalse(error.isUnavailable)
        }
        XCTAssertThrowsPGError(try db.run("INSERT INTO round (id, slug) VALUES ($1, $2)", [1, "london"])) { error in
            XCTAssertTrue(error.isUniqueViolation)
            XCTAssertEqual(error.constraint, "round_pkey")
        }
        XCTAssertTrue(db.isHealthy, "a constraint error leaves the connection usable")
    }

    func testForeignKeyCheckAndNotNullViolations() {
        XCTAssertThrowsPGError(try db.run("INSERT INTO quote VALUES ($1, $2)", [1, 99])) { error in
            XCTAssertTrue(error.isForeignKeyViolation, "\(error)")
            XCTAssertEqual(error.constraint, "quote_round_fk")
        }
        XCTAssertThrowsPGError(try db.run("UPDATE round SET rate = $1", [-1])) { error in
            XCTAssertTrue(error.isCheckViolation, "\(error)")
            XCTAssertEqual(error.constraint, "round_rate_range")
        }
        XCTAssertThrowsPGError(try db.run("INSERT INTO round (id, slug) VALUES ($1, $2)", [3, .null])) { error in
            XCTAssertTrue(error.isNotNullViolation, "\(error)")
            XCTAssertEqual(error.column, "slug")
        }
    }
}
