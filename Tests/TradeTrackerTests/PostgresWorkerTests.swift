import Foundation
import PGTestSupport
import PostgreSQL
import XCTest
@testable import TradeTracker

/// On PostgreSQL the API runs on the worker pool: a read that waits for the server (here, for a lock another
/// session holds) holds a worker, never an event loop, so the probes and other connections are answered meanwhile.
/// Needs `TT_POSTGRES_URL`; skipped without it.
final class PostgresWorkerTests: XCTestCase {
    func testReadsWaitingForTheServerDoNotHoldTheEventLoops() throws {
        guard ProcessInfo.processInfo.environment["TT_POSTGRES_URL"] != nil else {
            throw XCTSkip("needs a PostgreSQL server: set TT_POSTGRES_URL (scripts/pg-test-cluster.sh start)")
        }
        let schema = try TestApp.postgresSchema()
        defer { schema.drop() }
        let app = try TestApp { $0.databasePath = schema.scopedURL; $0.tokens = Fixtures.tokens }
        defer { app.stop() }
        XCTAssertEqual(app.app.server.configuration.offloadedPathPrefixes, ["/v1/"])
        _ = try ResourceAPI(app).source(title: "Stockholm readout")

        // Another session locks the table: every read of it waits until that transaction ends.
        let locker = try schema.connect()
        defer { locker.close() }
        try locker.execute("BEGIN")
        try locker.execute("LOCK TABLE sources IN ACCESS EXCLUSIVE MODE")
        let statuses = LockedList<Int>()
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                statuses.append((try? app.client().request("GET", "/v1/sources/1").status) ?? -1)
            }
        }
        Thread.sleep(forTimeInterval: 0.3)   // the four reads are waiting on the lock now
        XCTAssertEqual(statuses.items, [], "the reads wait for the lock")
        // Fresh connections, so both event loops are asked; a loop held by a waiting read would leave its probe
        // unanswered until the client's 10 s read timeout, which fails the request.
        for _ in 0..<4 { XCTAssertEqual(try app.client().request("GET", "/healthz").status, 200) }
        XCTAssertEqual(statuses.items, [], "the reads were still waiting for the lock")
        try locker.execute("ROLLBACK")
        XCTAssertEqual(group.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(statuses.items, [200, 200, 200, 200])
    }
}
