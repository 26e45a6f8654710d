import Foundation
import XCTest
import PGTestSupport
@testable import PostgreSQL

final class PGPoolTests: XCTestCase {
    private var database: PGTestDatabase!
    private var pool: PGPool?

    override func setUpWithError() throws {
        database = try PGTestDatabase()
    }

    override func tearDown() {
        pool?.close()
        database?.drop()
    }

    private func makePool(size: Int, borrowTimeout: Duration? = nil, openEagerly: Bool = false) throws -> PGPool {
        let pool = try PGPool(database.scopedURL, size: size, borrowTimeout: borrowTimeout, openEagerly: openEagerly)
        self.pool = pool
        return pool
    }

    func testOpensLazilyUpToItsSize() throws {
        let pool = try makePool(size: 3)
        XCTAssertEqual(pool.openConnectionCount, 0)
        XCTAssertEqual(try pool.withConnection { try $0.scalar("SELECT 1") }, 1)
        XCTAssertEqual(pool.openConnectionCount, 1)
        XCTAssertEqual(pool.idleConnectionCount, 1)
        let eager = try PGPool(database.scopedURL, size: 2, openEagerly: true)
        XCTAssertEqual(eager.openConnectionCount, 2)
        eager.close()
        XCTAssertThrowsPGError(try PGPool("postgres://x:pw@127.0.0.1:1/db?connect_timeout=2", size: 2, openEagerly: true)) {
            XCTAssertTrue($0.isConnectionFailure)
        }
        XCTAssertThrowsPGError(try PGPool(database.scopedURL, size: 0)) { XCTAssertEqual($0.kind, .misuse) }
    }

    func testConcurrentBorrowersFromSeveralThreadsShareThreeConnections() throws {
        let pool = try makePool(size: 3)
        try pool.withConnection { try $0.execute("CREATE TABLE t (thread int8 NOT NULL, n int8 NOT NULL)") }
        let failures = PGLocked<[String]>([])
        let inUse = PGLocked(0)
        let mostInUse = PGLocked(0)
        let backends = PGLocked<Set<Int32>>([])
        let threads = 8, perThread = 20
        let finished = DispatchGroup()
        for thread in 0..<threads {
            finished.enter()
            Thread.detachNewThread {
                defer { finished.leave() }
                for n in 1...perThread {
                    do {
                        let count = try pool.transaction { db -> Int64? in
                            let now = inUse.update { $0 += 1; return $0 }
                            mostInUse.update { $0 = max($0, now) }
                            defer { inUse.update { $0 -= 1 } }
                            backends.update { _ = $0.insert(db.backendProcessID) }
                            try db.run("INSERT INTO t VALUES ($1, $2)", [.integer(Int64(thread)), .integer(Int64(n))])
                            return try db.queryOne("SELECT count(*) AS c FROM t WHERE thread = $1", [.integer(Int64(thread))])?.int("c")
                        }
                        if count != Int64(n) { failures.update { $0.append("thread \(thread): count \(String(describing: count)) after \(n)") } }
                    } catch {
                        failures.update { $0.append("thread \(thread): \(error)") }
                    }
                }
            }
        }
        XCTAssertEqual(finished.wait(timeout: .now() + 60), .success, "borrowers did not finish")
        XCTAssertEqual(failures.get(), [])
        XCTAssertLessThanOrEqual(mostInUse.get(), 3)
        XCTAssertGreaterThan(mostInUse.get(), 1, "threads never overlapped")
        XCTAssertLessThanOrEqual(backends.get().count, 3)
        XCTAssertEqual(pool.openConnectionCount, 3)
        XCTAssertEqual(try pool.withConnection { try $0.scalar("SELECT count(*) FROM t") }, .integer(Int64(threads * perThread)))
    }

    func testABorrowWaitsForAFreeConnectionUpToTheTimeout() throws {
        let pool = try makePool(size: 1, borrowTimeout: .milliseconds(200))
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let returned = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? pool.withConnection { _ in
                holding.signal()
                _ = release.wait(timeout: .now() + 10)
            }
            returned.signal()
        }
        XCTAssertEqual(holding.wait(timeout: .now() + 10), .success)
        let started = ContinuousClock.now
        XCTAssertThrowsPGError(try pool.withConnection { _ in }) { XCTAssertEqual($0.kind, .timeout) }
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - started, .milliseconds(190))
        // A waiting borrower gets the connection as soon as it comes back.
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { release.signal() }
        XCTAssertEqual(try pool.withConnection { try $0.scalar("SELECT 1") }, 1)
        XCTAssertEqual(returned.wait(timeout: .now() + 10), .success)
    }

    func testAConnectionComesBackCleanAndTheClosedPoolRefuses() throws {
        let pool = try makePool(size: 1)
        try pool.withConnection { db in
            try db.execute("CREATE TABLE t (x int8)")
            try db.execute("BEGIN")
            try db.run("INSERT INTO t VALUES (1)")
            try db.listen("left_behind")
        }
        try pool.withConnection { db in
            XCTAssertFalse(db.isInTransaction)
            XCTAssertEqual(db.channels, [])
            XCTAssertEqual(try db.scalar("SELECT count(*) FROM t"), 0, "the open transaction was rolled back")
        }
        pool.close()
        pool.close()
        XCTAssertThrowsPGError(try pool.withConnection { _ in }) { XCTAssertTrue($0.isClosed) }
        XCTAssertEqual(pool.openConnectionCount, 0)
    }
}
