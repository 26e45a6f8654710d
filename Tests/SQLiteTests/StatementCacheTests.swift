import XCTest
@testable import SQLite

/// The per-connection statement cache is bounded: the least recently used statement goes first, and a statement
/// evicted is prepared again when its SQL comes back.
final class StatementCacheTests: XCTestCase {
    private var database: TemporaryDatabase!
    private var db: SQLiteConnection!

    override func setUpWithError() throws {
        database = try TemporaryDatabase()
        db = try SQLiteConnection(path: database.path, statementCacheCapacity: 4)
        try db.execute("CREATE TABLE t (n INTEGER) STRICT; INSERT INTO t VALUES (1), (2), (3)")
    }

    override func tearDown() {
        db?.close()
        database?.remove()
    }

    func testTheCacheNeverHoldsMoreThanItsCapacity() throws {
        for i in 0..<50 {
            XCTAssertEqual(try db.scalar("SELECT count(*) + \(i) FROM t"), .integer(Int64(3 + i)))
            XCTAssertLessThanOrEqual(db.cachedStatementCount, 4)
        }
        XCTAssertEqual(db.cachedStatementCount, 4)
    }

    func testTheLeastRecentlyUsedStatementIsEvictedAndPreparedAgainWhenNeeded() throws {
        let hot = "SELECT n FROM t WHERE n = ?"
        let first = try db.cachedStatement(hot)
        for i in 0..<10 {
            _ = try db.scalar("SELECT \(i)")
            _ = try db.query(hot, [.integer(2)])   // kept warm: never the least recently used
        }
        XCTAssertTrue(first === (try db.cachedStatement(hot)), "a statement in steady use stays cached")
        let cold = try db.cachedStatement("SELECT 1000")
        for i in 0..<4 { _ = try db.scalar("SELECT \(2000 + i)") }
        XCTAssertFalse(cold === (try db.cachedStatement("SELECT 1000")), "an evicted statement is prepared anew")
        XCTAssertEqual(try db.scalar("SELECT 1000"), .integer(1000))
        XCTAssertEqual(try db.query(hot, [.integer(3)]).first?.int("n"), 3)
    }
}
