import Foundation
import XCTest
import PGTestSupport
@testable import PostgreSQL

/// Stops the test cluster's server under live connections and starts it again.
final class PGReconnectTests: XCTestCase {
    func testFailuresWhileTheServerIsDownAreUnavailableAndThePoolRecovers() throws {
        let database = try PGTestDatabase()
        let cluster = try PGTestCluster.directory(for: database.url)
        addTeardownBlock {
            // Whatever happened above, leave the server running for the tests after this one.
            try? PGTestCluster.startServer(cluster)
            database.drop()
        }
        let pool = try PGPool(database.scopedURL, size: 2, openEagerly: true)
        defer { pool.close() }
        let direct = try database.connect()
        defer { direct.close() }
        let unprobed = try database.connect()
        defer { unprobed.close() }
        let listener = try database.connect()
        defer { listener.close() }
        try listener.listen("after_restart")
        try pool.withConnection { db in
            try db.execute("CREATE TABLE t (x int8)")
            XCTAssertEqual(try db.run("INSERT INTO t VALUES ($1)", [1]), 1) // cached before the outage
        }
        let oldBackend = direct.backendProcessID

        try PGTestCluster.stopServer(cluster)

        // Used without a health probe first, the failure shows up in the query itself.
        XCTAssertThrowsPGError(try unprobed.query("SELECT $1::int8", [1])) { error in
            XCTAssertTrue(error.isConnectionFailure, "\(error)")
            XCTAssertTrue(error.isUnavailable, "\(error)")
        }
        XCTAssertFalse(direct.isHealthy)
        XCTAssertThrowsPGError(try direct.scalar("SELECT 1")) { error in
            XCTAssertTrue(error.isConnectionFailure, "\(error)")
            XCTAssertTrue(error.isUnavailable, "\(error)")
        }
        XCTAssertThrowsPGError(try direct.reset()) { XCTAssertTrue($0.isUnavailable, "\($0)") }
        XCTAssertThrowsPGError(try pool.withConnection { try $0.scalar("SELECT 1") }) { error in
            XCTAssertTrue(error.isConnectionFailure, "\(error)")
            XCTAssertTrue(error.isUnavailable, "\(error)")
        }
        XCTAssertThrowsPGError(try listener.waitForNotifications(timeout: .seconds(2))) { XCTAssertTrue($0.isConnectionFailure, "\($0)") }

        try PGTestCluster.startServer(cluster)

        // The same pool object serves again: each connection is reset on its next borrow,
        // and the statement cached before the outage is prepared again on the new session.
        for n in 2...5 {
            XCTAssertEqual(try pool.withConnection { try $0.run("INSERT INTO t VALUES ($1)", [.integer(Int64(n))]) }, 1)
        }
        let results = PGLocked<[PGValue?]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let value = try? pool.withConnection { db -> PGValue? in
                Thread.sleep(forTimeInterval: 0.05) // hold it, so both connections are used
                return try db.scalar("SELECT count(*) FROM t")
            }
            results.update { $0.append(value) }
        }
        XCTAssertEqual(results.get(), [.integer(5), .integer(5)])
        XCTAssertEqual(pool.openConnectionCount, 2)

        try direct.reset()
        XCTAssertTrue(direct.isHealthy)
        XCTAssertNotEqual(direct.backendProcessID, oldBackend)
        XCTAssertEqual(try direct.scalar("SELECT count(*) FROM t"), 5)

        try listener.reset()
        try direct.notify("after_restart", payload: "back")
        XCTAssertEqual(try listener.waitForNotifications(timeout: .seconds(5)).map(\.payload), ["back"])
    }
}
