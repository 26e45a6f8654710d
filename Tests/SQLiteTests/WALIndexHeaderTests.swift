import Foundation
import XCTest
@testable import SQLite

/// The wal-index header moves with every commit — ours, another connection's, a checkpoint's restart of the WAL —
/// and with nothing else; there is none to watch outside WAL mode.
final class WALIndexHeaderTests: XCTestCase {
    private var database: TemporaryDatabase!
    private var pool: DatabasePool?

    override func setUpWithError() throws {
        database = try TemporaryDatabase()
        pool = try DatabasePool(DatabaseConfiguration(path: database.path, readerCount: 2, synchronous: .normal, checkpointFrames: nil))
        try pool?.withWriter { try $0.execute("CREATE TABLE t (x INTEGER)") }
    }

    override func tearDown() {
        pool?.close()
        database?.remove()
    }

    func testEveryCommitMovesTheHeaderAndReadsDoNot() throws {
        let pool = try XCTUnwrap(pool)
        let header = try XCTUnwrap(WALIndexHeader(path: database.path), "a WAL file has a wal-index header")
        var seen = try XCTUnwrap(header.stamp())
        for i in 0..<20 {
            _ = try pool.read { try $0.scalar("SELECT count(*) FROM t") }
            XCTAssertEqual(header.stamp(), seen, "a read changes nothing")
            _ = try pool.withWriter { try $0.run("INSERT INTO t VALUES (?)", [.integer(Int64(i))]) }
            let now = try XCTUnwrap(header.stamp())
            XCTAssertNotEqual(now, seen, "commit \(i)")
            seen = now
        }
        // Another connection to the file, as another process would write (they share the same shared memory).
        let other = try SQLiteConnection(path: database.path)
        try other.run("INSERT INTO t VALUES (99)")
        other.close()
        let afterOther = try XCTUnwrap(header.stamp())
        XCTAssertNotEqual(afterOther, seen)
        // A rolled-back transaction commits nothing.
        try pool.withWriter { db in
            try db.execute("BEGIN IMMEDIATE")
            try db.run("INSERT INTO t VALUES (100)")
            try db.execute("ROLLBACK")
        }
        XCTAssertEqual(header.stamp(), afterOther)
        // A checkpoint that restarts the WAL, then a commit into the restarted WAL.
        try pool.withWriter { _ = try $0.scalar("PRAGMA wal_checkpoint(TRUNCATE)") }
        _ = try pool.withWriter { try $0.run("INSERT INTO t VALUES (101)") }
        XCTAssertNotEqual(header.stamp(), afterOther)
    }

    func testThereIsNoHeaderOutsideWALMode() throws {
        XCTAssertNil(WALIndexHeader(path: ":memory:"))
        let rollback = database.directory.appendingPathComponent("rollback.sqlite").path
        let db = try SQLiteConnection(path: rollback)
        try db.execute("CREATE TABLE t (x INTEGER)")
        XCTAssertNil(WALIndexHeader(path: rollback), "a rollback-journal database has no wal-index")
        db.close()
    }
}
