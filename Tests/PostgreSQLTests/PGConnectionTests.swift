import XCTest
@testable import PostgreSQL

final class PGConnectionTests: PGLiveTestCase {
    func testConnectsAndReportsTheSession() throws {
        XCTAssertTrue(db.isHealthy)
        XCTAssertFalse(db.isInTransaction)
        XCTAssertGreaterThanOrEqual(db.serverVersion, 100_000)
        XCTAssertGreaterThan(db.socketDescriptor, -1)
        XCTAssertEqual(try db.scalar("SELECT pg_backend_pid()"), .integer(Int64(db.backendProcessID)))
        XCTAssertEqual(try db.scalar("SHOW client_encoding"), .text("UTF8"))
        XCTAssertEqual(try db.scalar("SELECT current_schema()"), .text(database.schema))
        db.close()
        XCTAssertTrue(db.isClosed)
        XCTAssertFalse(db.isHealthy)
        XCTAssertThrowsPGError(try db.scalar("SELECT 1")) { XCTAssertTrue($0.isClosed) }
        db.close() // idempotent
    }

    func testEveryValueKindRoundTrips() throws {
        try db.execute("""
            CREATE TABLE kinds (
                id int8 PRIMARY KEY, i int8, r float8, t text, b bytea, f bool
            )
            """)
        let rows: [[PGValue]] = [
            [1, .integer(Int64.max), .real(0.1), .text("Grüße aus 北京 — ‘quoted’ 🇺🇸\n\t\\"), .bytea([0, 1, 0, 255, 0]), true],
            [2, .integer(Int64.min), .real(-1e-300), .text(""), .bytea([]), false],
            [3, .null, .null, .null, .null, .null],
            [4, 0, .real(.infinity), .text("'; DROP TABLE kinds; --"), .bytea(Array(0...255)), .null],
        ]
        for row in rows {
            XCTAssertEqual(try db.run("INSERT INTO kinds VALUES ($1, $2, $3, $4, $5, $6)", row), 1)
        }
        let read = try db.query("SELECT id, i, r, t, b, f FROM kinds ORDER BY id")
        XCTAssertEqual(read.map(\.values), rows)
        XCTAssertEqual(read[0].columns, ["id", "i", "r", "t", "b", "f"])
        XCTAssertEqual(read[0].columnTypes, [20, 20, 701, 25, 17, 16])
        XCTAssertEqual(read[0].int("i"), Int64.max)
        XCTAssertEqual(read[0].bytes("b"), [0, 1, 0, 255, 0])
        XCTAssertEqual(read[1].text("t"), "")
        XCTAssertEqual(read[1].bytes("b"), [])
        XCTAssertEqual(read[1].bool("f"), false)
        XCTAssertNil(read[2].text("t"))
        XCTAssertTrue(read[2].isNull("t"))
        XCTAssertNil(read[2]["nosuch"])
    }

    func testEmptyTextAndBytesAreNotNull() throws {
        let row = try XCTUnwrap(db.queryOne(
            "SELECT $1::text IS NULL AS t_null, length($1::text) AS t_len, $2::bytea IS NULL AS b_null, length($2::bytea) AS b_len, $3::text IS NULL AS n_null",
            [.text(""), .bytea([]), .null]))
        XCTAssertEqual(row["t_null"], false)
        XCTAssertEqual(row["t_len"], 0)
        XCTAssertEqual(row["b_null"], false)
        XCTAssertEqual(row["b_len"], 0)
        XCTAssertEqual(row["n_null"], true)
    }

    func testServerTypesMapToTheirKinds() throws {
        let row = try XCTUnwrap(db.queryOne("""
            SELECT 7::int2 AS small, 8::int4 AS normal, 1.5::float4 AS single, 'NaN'::float8 AS nan,
                   '-Infinity'::float8 AS ninf, 12345678901234567890.25::numeric AS exact, 42::numeric AS whole,
                   DATE '2025-05-09' AS day, '{"a":1}'::jsonb AS doc, 'x'::varchar AS v, 'x'::"char" AS c,
                   (SELECT sum(x) FROM (VALUES (9007199254740993::int8), (1::int8)) AS s(x)) AS total
            """))
        XCTAssertEqual(row["small"], 7)
        XCTAssertEqual(row["normal"], 8)
        XCTAssertEqual(row["single"], .real(1.5))
        XCTAssertTrue(row.double("nan")?.isNaN == true)
        XCTAssertEqual(row["ninf"], .real(-.infinity))
        // numeric stays exact decimal text; the typed accessors read it as a number.
        XCTAssertEqual(row["exact"], .text("12345678901234567890.25"))
        XCTAssertEqual(row["whole"], .text("42"))
        XCTAssertEqual(row.int("whole"), 42)
        XCTAssertEqual(row.double("exact"), 12345678901234567890.25)
        XCTAssertEqual(row.int("total"), 9007199254740994)
        XCTAssertEqual(row["day"], .text("2025-05-09"))
        XCTAssertEqual(row["doc"], .text(#"{"a": 1}"#))
        XCTAssertEqual(row["v"], .text("x"))
        XCTAssertEqual(row["c"], .text("x"))
        XCTAssertNil(row.int("day"), "only numeric text converts to a number")
    }

    func testDoublesRoundTripExactly() throws {
        let values: [Double] = [0.1, 1.0 / 3.0, .pi, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -0.0, 123456789.123456789]
        for value in values {
            XCTAssertEqual(try db.scalar("SELECT $1::float8", [.real(value)]), .real(value))
        }
        XCTAssertTrue(try db.queryOne("SELECT $1::float8 AS x", [.real(.nan)])?.double("x")?.isNaN == true)
    }

    func testParameterCountMismatchIsAMisuseError() throws {
        XCTAssertThrowsPGError(try db.query("SELECT $1::int8, $2::int8", [1])) { error in
            XCTAssertEqual(error.kind, .misuse)
            XCTAssertTrue(error.message.contains("2 parameters but 1"), error.message)
        }
        XCTAssertThrowsPGError(try db.query("SELECT $1::int8", [1, 2])) { error in
            XCTAssertEqual(error.kind, .misuse)
            XCTAssertTrue(error.message.contains("1 parameters but 2"), error.message)
        }
        XCTAssertThrowsPGError(try db.query("SELECT 1", [1])) { XCTAssertEqual($0.kind, .misuse) }
        // The connection is untouched: nothing was sent.
        XCTAssertTrue(db.isHealthy)
        XCTAssertEqual(try db.queryOne("SELECT '$2' AS s, $1::int8 AS n", [5])?["n"], 5)
    }

    func testTextWithNULIsRejectedBeforeSending() {
        XCTAssertThrowsPGError(try db.scalar("SELECT $1::text", [.text("a\u{0}b")])) { error in
            XCTAssertEqual(error.kind, .misuse)
            XCTAssertTrue(error.message.contains("$1"), error.message)
        }
    }

    func testRunReportsAffectedRowsAndExecuteRunsScripts() throws {
        try db.execute("""
            CREATE TABLE t (x int8 NOT NULL);
            INSERT INTO t VALUES (1), (2), (3);
            """)
        XCTAssertEqual(try db.run("UPDATE t SET x = x + $1", [10]), 3)
        XCTAssertEqual(try db.run("DELETE FROM t WHERE x > $1", [11]), 2)
        XCTAssertEqual(try db.run("CREATE INDEX t_x ON t (x)"), 0)
        XCTAssertEqual(try db.scalar("SELECT x FROM t"), 11)
        XCTAssertNil(try db.scalar("SELECT x FROM t WHERE false"))
        XCTAssertNil(try db.queryOne("SELECT x FROM t WHERE false"))
        XCTAssertThrowsPGError(try db.execute("SELECT nosuchcolumn FROM t")) { error in
            XCTAssertEqual(error.kind, .server)
            XCTAssertEqual(error.sqlState, "42703")
            XCTAssertEqual(error.sql, "SELECT nosuchcolumn FROM t")
        }
        try db.execute("") // an empty script is not an error
    }

    func testCopyIsRefusedAndTheConnectionStaysUsable() throws {
        try db.execute("CREATE TABLE t (x int8)")
        XCTAssertThrowsPGError(try db.execute("COPY t FROM STDIN")) { XCTAssertEqual($0.kind, .misuse) }
        XCTAssertThrowsPGError(try db.execute("COPY (SELECT 1) TO STDOUT")) { XCTAssertEqual($0.kind, .misuse) }
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM t"), 0)
        XCTAssertFalse(db.isInTransaction)
    }
}
