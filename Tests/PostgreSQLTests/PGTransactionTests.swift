import XCTest
@testable import PostgreSQL

final class PGTransactionTests: PGLiveTestCase {
    private var other: PGConnection!
    private struct Boom: Error {}

    override func setUpWithError() throws {
        try super.setUpWithError()
        other = try database.connect()
        try db.execute("CREATE TABLE t (x int8 NOT NULL)")
    }

    override func tearDown() {
        other?.close()
        super.tearDown()
    }

    private func values(_ connection: PGConnection) throws -> [Int64] {
        try connection.query("SELECT x FROM t ORDER BY x").compactMap { $0.int("x") }
    }

    func testCommitIsVisibleToOthersAndRollbackIsNot() throws {
        let answer = try db.transaction { () -> Int in
            XCTAssertTrue(db.isInTransaction)
            try db.run("INSERT INTO t VALUES ($1)", [1])
            XCTAssertEqual(try values(other), [], "uncommitted work is invisible")
            return 42
        }
        XCTAssertEqual(answer, 42)
        XCTAssertFalse(db.isInTransaction)
        XCTAssertEqual(try values(other), [1])

        XCTAssertThrowsError(try db.transaction {
            try db.run("INSERT INTO t VALUES ($1)", [2])
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
        XCTAssertFalse(db.isInTransaction)
        XCTAssertEqual(try values(other), [1])
    }

    func testNestedSavepointRollbackKeepsTheOuterWork() throws {
        try db.transaction {
            try db.run("INSERT INTO t VALUES ($1)", [1])
            XCTAssertThrowsError(try db.transaction {
                try db.run("INSERT INTO t VALUES ($1)", [2])
                throw Boom()
            })
            // A failing statement inside the savepoint aborts only the savepoint.
            XCTAssertThrowsPGError(try db.transaction {
                try db.run("INSERT INTO t VALUES ($1)", [3])
                try db.run("INSERT INTO t VALUES (NULL)")
            }) { XCTAssertTrue($0.isNotNullViolation) }
            try db.transaction {
                try db.run("INSERT INTO t VALUES ($1)", [4])
                try db.transaction { try db.run("INSERT INTO t VALUES ($1)", [5]) }
            }
            XCTAssertTrue(db.isInTransaction)
        }
        XCTAssertEqual(try values(other), [1, 4, 5])
    }

    func testAnErrorCaughtInsideTheBodyStillFailsTheCommit() throws {
        XCTAssertThrowsPGError(try db.transaction {
            try db.run("INSERT INTO t VALUES ($1)", [1])
            _ = try? db.run("INSERT INTO t VALUES (NULL)") // swallowed, but the transaction is aborted
        }) { error in
            XCTAssertEqual(error.sqlState, "25P02")
        }
        XCTAssertFalse(db.isInTransaction)
        XCTAssertEqual(try values(other), [])
    }

    /// The writer begins its batches itself and ends them with `commit()`: an aborted one is refused, not rolled back
    /// behind a COMMIT that looks successful.
    func testCommitRefusesATransactionAnEarlierErrorAborted() throws {
        try db.execute("BEGIN")
        try db.run("INSERT INTO t VALUES ($1)", [1])
        _ = try? db.run("INSERT INTO t VALUES (NULL)")
        XCTAssertThrowsPGError(try db.commit()) { XCTAssertEqual($0.sqlState, "25P02") }
        try db.execute("ROLLBACK")
        try db.execute("BEGIN")
        try db.run("INSERT INTO t VALUES ($1)", [2])
        try db.commit()
        XCTAssertFalse(db.isInTransaction)
        XCTAssertEqual(try values(other), [2])
    }

    func testIsolationLevelApplies() throws {
        let level = try db.transaction(.serializable) { try db.scalar("SHOW transaction_isolation") }
        XCTAssertEqual(level, .text("serializable"))
        XCTAssertEqual(try db.scalar("SHOW transaction_isolation"), .text("read committed"))
    }

    func testWriteSkewIsASerializationFailure() throws {
        // Each transaction reads what the other writes: SSI must fail the second commit.
        try db.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        try other.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        _ = try db.scalar("SELECT count(*) FROM t WHERE x = 2")
        _ = try other.scalar("SELECT count(*) FROM t WHERE x = 1")
        try db.run("INSERT INTO t VALUES (1)")
        try other.run("INSERT INTO t VALUES (2)")
        try db.execute("COMMIT")
        XCTAssertThrowsPGError(try other.execute("COMMIT")) { error in
            XCTAssertTrue(error.isSerializationFailure, "\(error)")
        }
        XCTAssertFalse(other.isInTransaction)
    }

    func testReadOnlyTransactionRefusesWrites() throws {
        try db.execute("BEGIN READ ONLY")
        XCTAssertThrowsPGError(try db.run("INSERT INTO t VALUES (1)")) { XCTAssertTrue($0.isReadOnly, "\($0)") }
        try db.execute("ROLLBACK")
    }
}
