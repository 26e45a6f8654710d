import Foundation
import XCTest
@testable import SQLite

final class DatabasePoolTests: XCTestCase {
    private var database: TemporaryDatabase!
    private var pool: DatabasePool?

    override func setUpWithError() throws {
        database = try TemporaryDatabase()
    }

    override func tearDown() {
        pool?.close()
        database?.remove()
    }

    private func makePool(readers: Int = 4, synchronous: Synchronous = .full, checkpointFrames: Int? = 1000) throws -> DatabasePool {
        let pool = try DatabasePool(DatabaseConfiguration(path: database.path, readerCount: readers, synchronous: synchronous,
                                                          checkpointFrames: checkpointFrames))
        self.pool = pool
        return pool
    }

    func testWriterIsConfiguredForWALForeignKeysAndSynchronous() throws {
        let pool = try makePool(synchronous: .normal)
        try pool.withWriter { db in
            XCTAssertEqual(try db.scalar("PRAGMA journal_mode"), .text("wal"))
            XCTAssertEqual(try db.scalar("PRAGMA foreign_keys"), .integer(1))
            XCTAssertEqual(try db.scalar("PRAGMA synchronous"), .integer(1)) // NORMAL
        }
        try pool.read { db in
            XCTAssertEqual(try db.scalar("PRAGMA journal_mode"), .text("wal"))
        }
        pool.close()
        let defaults = try makePool()
        XCTAssertEqual(try defaults.withWriter { try $0.scalar("PRAGMA synchronous") }, .integer(2)) // FULL
    }

    func testReadersCannotWrite() throws {
        let pool = try makePool()
        try pool.write { try $0.execute("CREATE TABLE t (x INTEGER) STRICT") }
        XCTAssertThrowsSQLiteError(try pool.read { try $0.run("INSERT INTO t VALUES (1)") }) { error in
            XCTAssertEqual(error.primaryCode, 8, "\(error)") // SQLITE_READONLY
        }
    }

    func testWriteCommitsAndRollsBackOnThrow() throws {
        let pool = try makePool()
        try pool.write { try $0.execute("CREATE TABLE t (x INTEGER) STRICT") }
        struct Boom: Error {}
        XCTAssertThrowsError(try pool.write { db in
            try db.run("INSERT INTO t VALUES (1)")
            throw Boom()
        })
        try pool.write { db in
            XCTAssertTrue(db.isInTransaction)
            try db.run("INSERT INTO t VALUES (2)")
        }
        XCTAssertEqual(try pool.read { try $0.query("SELECT x FROM t").map { $0.int("x") } }, [2])
        XCTAssertTrue(pool.isWritable())
    }

    func testReadersSeeCommittedDataWhileWriterTransactionIsOpen() throws {
        let pool = try makePool()
        try pool.write { db in
            try db.execute("CREATE TABLE t (x INTEGER) STRICT")
            try db.run("INSERT INTO t VALUES (1)")
        }
        let writerInsideTransaction = DispatchSemaphore(value: 0)
        let readerFinished = DispatchSemaphore(value: 0)
        let writerDone = DispatchSemaphore(value: 0)
        let outcome = LockedBox<String?>(nil)
        Thread.detachNewThread {
            do {
                try pool.write { db in
                    try db.run("INSERT INTO t VALUES (2)")
                    writerInsideTransaction.signal()
                    // Holds the write transaction open until the reader has finished.
                    if readerFinished.wait(timeout: .now() + 10) == .timedOut { outcome.set("reader never finished") }
                }
            } catch {
                outcome.set("writer failed: \(error)")
            }
            writerDone.signal()
        }
        XCTAssertEqual(writerInsideTransaction.wait(timeout: .now() + 10), .success)
        let started = Date()
        let countDuringWrite = try pool.read { try $0.scalar("SELECT count(*) FROM t") }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "the read waited for the writer")
        XCTAssertEqual(countDuringWrite, .integer(1), "reader must see the last committed snapshot only")
        readerFinished.signal()
        XCTAssertEqual(writerDone.wait(timeout: .now() + 10), .success)
        XCTAssertNil(outcome.get())
        XCTAssertEqual(try pool.read { try $0.scalar("SELECT count(*) FROM t") }, .integer(2))
    }

    func testTwoReadersServeEightThreads() throws {
        let pool = try makePool(readers: 2)
        try pool.write { db in
            try db.execute("CREATE TABLE t (thread INTEGER NOT NULL, n INTEGER NOT NULL) STRICT")
        }
        let failures = LockedBox<[String]>([])
        let readersInUse = LockedBox<Int>(0)
        let mostReadersInUse = LockedBox<Int>(0)
        let perThread = 25
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for n in 1...perThread {
                do {
                    try pool.write { _ = try $0.run("INSERT INTO t (thread, n) VALUES (?, ?)", [.integer(Int64(thread)), .integer(Int64(n))]) }
                    let (count, sum) = try pool.read { db -> (SQLValue?, SQLValue?) in
                        let inUse = readersInUse.update { $0 += 1; return $0 }
                        mostReadersInUse.update { $0 = max($0, inUse) }
                        defer { readersInUse.update { $0 -= 1 } }
                        let row = try db.queryOne("SELECT count(*) AS c, sum(n) AS s FROM t WHERE thread = ?", [.integer(Int64(thread))])
                        return (row?["c"], row?["s"])
                    }
                    // This thread's own writes are committed before it reads, so it must see exactly them.
                    if count != .integer(Int64(n)) || sum != .integer(Int64(n * (n + 1) / 2)) {
                        failures.update { $0.append("thread \(thread) step \(n): count \(String(describing: count)) sum \(String(describing: sum))") }
                    }
                } catch {
                    failures.update { $0.append("thread \(thread): \(error)") }
                }
            }
        }
        XCTAssertEqual(failures.get(), [])
        XCTAssertLessThanOrEqual(mostReadersInUse.get(), 2)
        XCTAssertEqual(try pool.read { try $0.scalar("SELECT count(*) FROM t") }, .integer(Int64(8 * perThread)))
    }

    func testCloseWaitsForBorrowedReaderThenRefusesWork() throws {
        let pool = try makePool()
        let borrowed = DispatchSemaphore(value: 0)
        let readerReturned = LockedBox(false)
        Thread.detachNewThread {
            try? pool.read { _ in
                borrowed.signal()
                Thread.sleep(forTimeInterval: 0.2)
                readerReturned.set(true)
            }
        }
        XCTAssertEqual(borrowed.wait(timeout: .now() + 10), .success)
        pool.close()
        XCTAssertTrue(readerReturned.get(), "close returned while a reader was still borrowed")
        pool.close()
        XCTAssertThrowsSQLiteError(try pool.read { _ in 1 }) { error in
            XCTAssertTrue(error.isClosed)
            XCTAssertEqual(error.message, "database is closed")
        }
        XCTAssertThrowsSQLiteError(try pool.write { _ in 1 }) { XCTAssertTrue($0.isClosed) }
        XCTAssertFalse(pool.isWritable())
    }

    private func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// Frames in the WAL file, which only grows while no checkpoint has let the writer start it over.
    private func walFrames() -> Int {
        max(0, fileSize(database.path + "-wal") - 32) / (4096 + 24)
    }

    func testTheWALIsCheckpointedBesideTheWriterPastTheThreshold() throws {
        // Threshold 30 frames, the writer's own limit 60: commits stop between the two, so only the checkpoint thread
        // can have copied pages into the database file (SQLite's automatic checkpoint would wait for 1,000).
        let pool = try makePool(readers: 1, checkpointFrames: 30)
        let before = fileSize(database.path)
        try pool.write { try $0.execute("CREATE TABLE t (x TEXT)") }
        var rows = 0
        while walFrames() < 34 {
            try pool.write { _ = try $0.run("INSERT INTO t VALUES (?)", [.text(String(repeating: "x", count: 3000) + "\(rows)")]) }
            rows += 1
        }
        XCTAssertLessThan(walFrames(), 60, "the writer's own limit was not reached")
        var grown = false
        for _ in 0..<3000 where !grown {   // polls for the thread, up to 30 s; no timing is asserted
            grown = fileSize(database.path) > before
            if !grown { usleep(10_000) }
        }
        XCTAssertTrue(grown, "a checkpoint copied the WAL into the database file (\(before) bytes before, \(fileSize(database.path)) now)")
        XCTAssertEqual(try pool.read { try $0.scalar("SELECT count(*) FROM t") }, .integer(Int64(rows)))
    }

    func testOpeningInMissingDirectoryFails() {
        let path = database.directory.appendingPathComponent("no/such/dir/db.sqlite").path
        XCTAssertThrowsSQLiteError(try DatabasePool(DatabaseConfiguration(path: path)))
    }
}

/// A value shared between test threads, guarded by a lock.
final class LockedBox<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched while `lock` is held.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func get() -> Value { lock.withLock { value } }

    func set(_ newValue: Value) { lock.withLock { value = newValue } }

    @discardableResult
    func update<T>(_ body: (inout Value) -> T) -> T { lock.withLock { body(&value) } }
}
