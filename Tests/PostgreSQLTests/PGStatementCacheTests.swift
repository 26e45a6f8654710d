import XCTest
@testable import PostgreSQL

/// Pure: the LRU bookkeeping alone; PGStatementCacheLiveTests checks it against a server.
final class PGStatementCacheTests: XCTestCase {
    private func statement(_ n: Int) -> PGPreparedStatement { PGPreparedStatement(name: "s\(n)", parameterCount: 0) }

    func testEvictsTheLeastRecentlyUsed() {
        var cache = PGStatementCache(capacity: 3)
        XCTAssertNil(cache.insert(statement(1), for: "a"))
        XCTAssertNil(cache.insert(statement(2), for: "b"))
        XCTAssertNil(cache.insert(statement(3), for: "c"))
        XCTAssertEqual(cache.statement(for: "a"), statement(1)) // a is now the most recent
        XCTAssertEqual(cache.insert(statement(4), for: "d"), statement(2))
        XCTAssertNil(cache.statement(for: "b"))
        XCTAssertEqual(cache.insert(statement(5), for: "e"), statement(3))
        XCTAssertEqual(cache.count, 3)
        XCTAssertNotNil(cache.statement(for: "a"))
    }

    func testReplacingAKeyReturnsTheOldStatement() {
        var cache = PGStatementCache(capacity: 2)
        _ = cache.insert(statement(1), for: "a")
        XCTAssertEqual(cache.insert(statement(2), for: "a"), statement(1))
        XCTAssertEqual(cache.count, 1)
    }

    func testCapacityIsAtLeastOneAndRemoveAllEmpties() {
        var cache = PGStatementCache(capacity: 0)
        XCTAssertEqual(cache.capacity, 1)
        _ = cache.insert(statement(1), for: "a")
        XCTAssertEqual(cache.insert(statement(2), for: "b"), statement(1))
        XCTAssertEqual(cache.removeAll(), [statement(2)])
        XCTAssertEqual(cache.count, 0)
    }
}
