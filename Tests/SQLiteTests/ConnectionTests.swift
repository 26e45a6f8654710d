import XCTest
@testable import SQLite

final class ConnectionTests: XCTestCase {
    private var database: TemporaryDatabase!
    private var db: SQLiteConnection!

    override func setUpWithError() throws {
        database = try TemporaryDatabase()
        db = try SQLiteConnection(path: database.path)
    }

    override func tearDown() {
        db?.close()
        database?.remove()
    }

    func testBindsAndReadsBackEveryType() throws {
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n ANY) STRICT")
        let rows: [(SQLValue, SQLValue, SQLValue, SQLValue)] = [
            (.integer(Int64.min), .real(-0.5), .text("héllo wörld ✓ 日本語 🚀"), .blob([0, 1, 2, 255])),
            (.integer(Int64.max), .real(1e300), .text(""), .blob([])),
            (.integer(0), .real(Double.pi), .text("nul\u{0}inside"), .null),
        ]
        for (i, r, s, b) in rows {
            try db.run("INSERT INTO t (i, r, s, b, n) VALUES (?, ?, ?, ?, NULL)", [i, r, s, b])
        }
        let back = try db.query("SELECT i, r, s, b, n FROM t ORDER BY rowid")
        XCTAssertEqual(back.count, 3)
        for (row, expected) in zip(back, rows) {
            XCTAssertEqual(row["i"], expected.0)
            XCTAssertEqual(row["r"], expected.1)
            XCTAssertEqual(row["s"], expected.2)
            // An empty blob round-trips as an empty blob, not as NULL.
            XCTAssertEqual(row["b"], expected.3)
            XCTAssertEqual(row["n"], .null)
        }
        XCTAssertEqual(back[0].int("i"), Int64.min)
        XCTAssertEqual(back[1].int(0), Int64.max)
        XCTAssertEqual(back[0].text("s"), "héllo wörld ✓ 日本語 🚀")
        XCTAssertEqual(back[1].text("s"), "")
        XCTAssertEqual(back[2].double("r"), Double.pi)
        XCTAssertEqual(back[0].blob("b"), [0, 1, 2, 255])
        XCTAssertTrue(back[2].isNull("b"))
        XCTAssertEqual(back[0].columns, ["i", "r", "s", "b", "n"])
    }

    func testLiteralConveniences() throws {
        let values: [SQLValue] = [42, true, "x", .null, 2.5, 7]
        let row = try XCTUnwrap(db.queryOne("SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e, ? AS f", values))
        XCTAssertEqual(row.int("a"), 42)
        XCTAssertEqual(row.bool("b"), true)
        XCTAssertEqual(row.text("c"), "x")
        XCTAssertEqual(row["d"], .null)
        XCTAssertEqual(row.double("e"), 2.5)
        XCTAssertEqual(row.int("f"), 7)
        let literal: [SQLValue] = [1, "two", .null, 3.5, false]
        XCTAssertEqual(literal, [.integer(1), .text("two"), .null, .real(3.5), .integer(0)])
    }

    func testUnknownColumnIsNilButNullColumnIsNull() throws {
        let row = try XCTUnwrap(db.queryOne("SELECT NULL AS present"))
        XCTAssertEqual(row["present"], .some(.null))
        XCTAssertNil(row["absent"])
        XCTAssertNil(row.int("absent"))
        XCTAssertFalse(row.hasColumn("absent"))
    }

    func testStatementLevelAPI() throws {
        let statement = try db.prepare("SELECT :a AS a, @b AS b, $c AS c")
        try statement.bind(named: ["a": 1, "@b": "two"])
        XCTAssertTrue(try statement.step())
        XCTAssertEqual(statement.columnCount, 3)
        XCTAssertEqual(statement.columnName(1), "b")
        XCTAssertEqual(statement.int64(at: 0), 1)
        XCTAssertEqual(statement.text(at: 1), "two")
        XCTAssertTrue(statement.isNull(at: 2))
        XCTAssertNil(statement.text(at: 2))
        XCTAssertFalse(try statement.step())
        XCTAssertThrowsSQLiteError(try statement.bind(named: ["nope": 1])) { XCTAssertEqual($0.code, SQLITE_RANGE_CODE) }
        XCTAssertThrowsSQLiteError(try statement.bind([1])) { XCTAssertEqual($0.code, SQLITE_RANGE_CODE) }
        try statement.bind(.real(1.5), at: 3)
        XCTAssertTrue(try statement.step())
        XCTAssertEqual(statement.double(at: 2), 1.5)
    }

    func testNamedQueryAndEmptyResults() throws {
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL) STRICT")
        try db.run("INSERT INTO t (id, name) VALUES (:id, :name)", named: ["id": 7, "name": "seven"])
        XCTAssertEqual(try db.query("SELECT name FROM t WHERE id = :id", named: ["id": 7]).map { $0.text("name") }, ["seven"])
        XCTAssertNil(try db.queryOne("SELECT name FROM t WHERE id = ?", [8]))
        XCTAssertNil(try db.scalar("SELECT name FROM t WHERE id = ?", [8]))
        XCTAssertEqual(try db.query("SELECT name FROM t WHERE id = ?", [8]).count, 0)
    }

    func testPrepareRejectsTrailingStatementsButAllowsComments() throws {
        XCTAssertNoThrow(try db.prepare("SELECT 1; -- trailing comment\n  "))
        XCTAssertThrowsSQLiteError(try db.prepare("SELECT 1; SELECT 2"))
        XCTAssertThrowsSQLiteError(try db.prepare("  -- nothing "))
    }

    func testStatementCacheReusesAndResets() throws {
        try db.execute("CREATE TABLE t (x INTEGER) STRICT; INSERT INTO t VALUES (1), (2), (3);")
        let sql = "SELECT x FROM t WHERE x >= ? ORDER BY x"
        let first = try db.cachedStatement(sql)
        try first.bind([1])
        XCTAssertTrue(try first.step())
        XCTAssertEqual(first.int64(at: 0), 1)
        // Left mid-iteration with a binding on purpose: the cache must hand it back rewound
        // (else step would go on to x = 2) and with bindings cleared (`x >= NULL` matches nothing).
        let second = try db.cachedStatement(sql)
        XCTAssertTrue(first === second)
        XCTAssertFalse(try second.step())
        XCTAssertEqual(try db.query(sql, [2]).map { $0.int("x") }, [2, 3])
        XCTAssertEqual(try db.query(sql, [3]).map { $0.int("x") }, [3])
        XCTAssertEqual(db.cachedStatementCount, 1)
    }

    func testRunReportsChangesAndLastInsertRowID() throws {
        try db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER) STRICT")
        try db.run("INSERT INTO t (x) VALUES (?)", [10])
        XCTAssertEqual(db.lastInsertRowID, 1)
        try db.run("INSERT INTO t (x) VALUES (?)", [20])
        XCTAssertEqual(db.lastInsertRowID, 2)
        try db.run("UPDATE t SET x = x + 1")
        XCTAssertEqual(db.changes, 2)
        XCTAssertEqual(try db.scalar("SELECT sum(x) FROM t"), .integer(32))
    }

    func testTransactionCommitsAndRollsBack() throws {
        try db.execute("CREATE TABLE t (x INTEGER) STRICT")
        let result = try db.transaction {
            XCTAssertTrue(db.isInTransaction)
            try db.run("INSERT INTO t VALUES (1)")
            return "done"
        }
        XCTAssertEqual(result, "done")
        XCTAssertFalse(db.isInTransaction)

        struct Boom: Error {}
        XCTAssertThrowsError(try db.transaction(.deferred) {
            try db.run("INSERT INTO t VALUES (2)")
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        XCTAssertFalse(db.isInTransaction)
        XCTAssertEqual(try db.query("SELECT x FROM t").map { $0.int("x") }, [1])
    }

    func testNestedTransactionRollsBackOnlyTheInnerPart() throws {
        try db.execute("CREATE TABLE t (x INTEGER) STRICT")
        struct Boom: Error {}
        try db.transaction {
            try db.run("INSERT INTO t VALUES (1)")
            XCTAssertThrowsError(try db.transaction {
                try db.run("INSERT INTO t VALUES (2)")
                throw Boom()
            })
            XCTAssertTrue(db.isInTransaction)
            try db.run("INSERT INTO t VALUES (3)")
        }
        XCTAssertEqual(try db.query("SELECT x FROM t ORDER BY x").map { $0.int("x") }, [1, 3])
    }

    func testConstraintErrorsCarryExtendedCodes() throws {
        try db.execute("""
            PRAGMA foreign_keys = ON;
            CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE) STRICT;
            CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id),
                                qty INTEGER NOT NULL CHECK (qty > 0)) STRICT;
            INSERT INTO parent (id, code) VALUES (1, 'a');
            """)
        let insertParent = "INSERT INTO parent (id, code) VALUES (?, ?)"
        XCTAssertThrowsSQLiteError(try db.run(insertParent, [2, "a"])) { error in
            XCTAssertTrue(error.isUniqueViolation)
            XCTAssertTrue(error.isConstraintViolation)
            XCTAssertEqual(error.code, 2067)
            XCTAssertEqual(error.primaryCode, 19)
            XCTAssertEqual(error.sql, insertParent)
            XCTAssertTrue(error.description.contains("UNIQUE constraint failed: parent.code"), error.description)
        }
        XCTAssertThrowsSQLiteError(try db.run(insertParent, [1, "b"])) { XCTAssertTrue($0.isUniqueViolation) }
        XCTAssertThrowsSQLiteError(try db.run("INSERT INTO child (parent_id, qty) VALUES (?, ?)", [99, 1])) { error in
            XCTAssertTrue(error.isForeignKeyViolation)
            XCTAssertFalse(error.isUniqueViolation)
            XCTAssertEqual(error.code, 787)
        }
        XCTAssertThrowsSQLiteError(try db.run("INSERT INTO child (parent_id, qty) VALUES (?, ?)", [1, 0])) { error in
            XCTAssertTrue(error.isCheckViolation)
            XCTAssertEqual(error.code, 275)
        }
        XCTAssertThrowsSQLiteError(try db.run("INSERT INTO child (parent_id, qty) VALUES (?, ?)", [1, .null])) {
            XCTAssertTrue($0.isNotNullViolation)
        }
        // The statement that failed is still usable from the cache afterwards.
        try db.run("INSERT INTO child (parent_id, qty) VALUES (?, ?)", [1, 5])
    }

    func testStrictTableRejectsWrongType() throws {
        try db.execute("CREATE TABLE t (n INTEGER NOT NULL) STRICT")
        XCTAssertThrowsSQLiteError(try db.run("INSERT INTO t VALUES (?)", ["not a number"])) { error in
            XCTAssertEqual(error.primaryCode, 19)
            XCTAssertEqual(error.code, 3091) // SQLITE_CONSTRAINT_DATATYPE
            XCTAssertTrue(error.message.contains("cannot store TEXT value in INTEGER column t.n"), error.message)
        }
        // Lossless conversion is still allowed by STRICT.
        try db.run("INSERT INTO t VALUES (?)", ["12"])
        XCTAssertEqual(try db.scalar("SELECT n FROM t"), .integer(12))
    }

    func testDoubleQuotedStringLiteralsAreRejected() throws {
        try db.execute("CREATE TABLE t (x TEXT) STRICT")
        XCTAssertThrowsSQLiteError(try db.query("SELECT * FROM t WHERE x = \"oops\"")) {
            XCTAssertTrue($0.message.contains("no such column"), $0.message)
        }
    }

    func testBusyWhenAnotherConnectionHoldsTheWriteLock() throws {
        try db.execute("CREATE TABLE t (x INTEGER) STRICT")
        let other = try SQLiteConnection(path: database.path, busyTimeoutMilliseconds: 100)
        defer { other.close() }
        try db.execute("BEGIN IMMEDIATE")
        let started = Date()
        XCTAssertThrowsSQLiteError(try other.execute("BEGIN IMMEDIATE")) { error in
            XCTAssertTrue(error.isBusy, "\(error)")
        }
        // The busy handler waited instead of failing at once.
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.09)
        try db.execute("COMMIT")
        try other.transaction { _ = try other.run("INSERT INTO t VALUES (1)") }
    }

    func testFTS5AndJSON1AreAvailable() throws {
        try db.execute("""
            CREATE VIRTUAL TABLE docs USING fts5(title, body);
            INSERT INTO docs VALUES ('steel tariffs', 'twenty five percent on imported steel');
            INSERT INTO docs VALUES ('dairy quota', 'cheese and butter');
            """)
        let hits = try db.query("SELECT title FROM docs WHERE docs MATCH ? ORDER BY rank", ["steel"])
        XCTAssertEqual(hits.map { $0.text("title") }, ["steel tariffs"])
        let json = try db.scalar("SELECT json_extract(?, '$.a.b[1]')", [#"{"a":{"b":[10,20]}}"#])
        XCTAssertEqual(json, .integer(20))
    }

    func testClosedConnectionThrowsAndCloseIsIdempotent() throws {
        let statement = try db.cachedStatement("SELECT 1")
        db.close()
        db.close()
        XCTAssertTrue(db.isClosed)
        XCTAssertThrowsSQLiteError(try db.query("SELECT 1")) { XCTAssertTrue($0.isClosed) }
        XCTAssertThrowsSQLiteError(try statement.step())
    }

    func testOpenFailureIsReported() {
        XCTAssertThrowsSQLiteError(try SQLiteConnection(path: database.directory.appendingPathComponent("missing/x.db").path)) {
            XCTAssertEqual($0.primaryCode, 14) // SQLITE_CANTOPEN
        }
        XCTAssertThrowsSQLiteError(try SQLiteConnection(path: database.directory.appendingPathComponent("absent.db").path, flags: [.readOnly]))
    }
}

/// SQLITE_RANGE, spelled out so the test does not depend on CSQLite's imports.
let SQLITE_RANGE_CODE: Int32 = 25
