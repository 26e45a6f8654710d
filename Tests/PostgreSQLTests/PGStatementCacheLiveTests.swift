import XCTest
@testable import PostgreSQL

final class PGStatementCacheLiveTests: PGLiveTestCase {
    /// Prepared statements the server holds for this session (read with PQexec, which prepares nothing).
    private func serverStatements() throws -> Int {
        Int(try XCTUnwrap(db.executeScript("SELECT count(*) FROM pg_prepared_statements").rows().first?.int(0)))
    }

    func testTheSameSQLReusesOneStatement() throws {
        for n in 1...20 {
            XCTAssertEqual(try db.scalar("SELECT $1::int8 * 2", [.integer(Int64(n))]), .integer(Int64(n) * 2))
        }
        XCTAssertEqual(db.cachedStatementCount, 1)
        XCTAssertEqual(try serverStatements(), 1)
        // Bound as NULL the parameter's type is inferred, so that is a statement of its own.
        XCTAssertEqual(try db.scalar("SELECT $1::int8 * 2", [.null]), .null)
        XCTAssertEqual(db.cachedStatementCount, 2)
    }

    func testEvictionKeepsTheCacheBoundedAndEvictedSQLStillWorks() throws {
        let capacity = db.statementCacheCapacity
        XCTAssertEqual(capacity, 128)
        for n in 0..<500 {
            XCTAssertEqual(try db.scalar("SELECT \(n)::int8 + $1::int8", [1]), .integer(Int64(n) + 1))
            XCTAssertLessThanOrEqual(db.cachedStatementCount, capacity)
        }
        XCTAssertEqual(db.cachedStatementCount, capacity)
        // Evicted statements were DEALLOCATEd on the server, not just forgotten here.
        XCTAssertEqual(try serverStatements(), capacity)
        // The first texts were evicted long ago: they are prepared again and still answer.
        for n in 0..<5 {
            XCTAssertEqual(try db.scalar("SELECT \(n)::int8 + $1::int8", [2]), .integer(Int64(n) + 2))
        }
        XCTAssertEqual(try serverStatements(), capacity)
        db.clearStatementCache()
        XCTAssertEqual(db.cachedStatementCount, 0)
        XCTAssertEqual(try serverStatements(), 0)
    }

    func testEvictionInsideATransactionWaitsForItsEnd() throws {
        let small = try database.connect(statementCacheCapacity: 2)
        defer { small.close() }
        try small.execute("CREATE TABLE t (x int8)")
        try small.transaction {
            for n in 0..<6 {
                try small.run("INSERT INTO t VALUES ($1::int8 + \(n))", [1])
            }
            XCTAssertEqual(small.cachedStatementCount, 2)
            // A DEALLOCATE that failed here would abort the caller's transaction, so it waits.
            XCTAssertEqual(try small.executeScript("SELECT count(*) FROM pg_prepared_statements").rows()[0].int(0), 6)
        }
        XCTAssertEqual(try small.scalar("SELECT count(*) FROM t"), 6)
        XCTAssertEqual(try small.scalar("SELECT count(*) FROM pg_prepared_statements"), 2)
    }

    func testAStatementMadeStaleBySchemaChangeIsPreparedAgain() throws {
        try db.execute("CREATE TABLE t (x int8); INSERT INTO t VALUES (1)")
        XCTAssertEqual(try db.query("SELECT * FROM t").first?.count, 1)
        try db.execute("ALTER TABLE t ADD COLUMN y text DEFAULT 'y'")
        // The server refuses the old plan once (0A000); the cache drops it and the retry works.
        XCTAssertThrowsPGError(try db.query("SELECT * FROM t")) { XCTAssertEqual($0.sqlState, "0A000", "\($0)") }
        XCTAssertEqual(try db.query("SELECT * FROM t").first?.values, [1, "y"])
    }
}
