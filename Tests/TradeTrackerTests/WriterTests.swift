import JSON
import Foundation
import PostgreSQL
import XCTest
import SQLite
@testable import TradeTracker

/// The single writer with group commit: concurrent writes all land, a failing write in a batch leaves its neighbours
/// alone, the queue is bounded, shutdown finishes what is queued, and a kill -9 loses nothing acknowledged.
final class WriterTests: XCTestCase {
    var app: TestApp!

    override func setUpWithError() throws { app = try Fixtures.app() }
    override func tearDown() { app?.stop() }

    /// Runs `count` copies of `body` on their own threads and waits for all.
    private func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for i in 0..<count {
            group.enter()
            Thread.detachNewThread {
                body(i)
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
    }

    func testThirtyTwoConcurrentWritersAllLandAndEveryAcknowledgedIDIsReadable() throws {
        let acknowledged = LockedList<(Int, String)>()
        let app = self.app!
        concurrently(32) { writer in
            let api = ResourceAPI(app)
            for n in 0..<8 {
                let title = "writer \(writer) source \(n)"
                guard let response = try? api.post("/v1/sources", #"{"title":"\#(title)"}"#), response.status == 201,
                      let id = try? response.json()["id"]?.intValue else { continue }
                acknowledged.append((id, title))
            }
        }
        let all = acknowledged.items
        XCTAssertEqual(all.count, 256)
        XCTAssertEqual(Set(all.map(\.0)).count, 256, "every write got its own id")
        let api = ResourceAPI(app)
        for (id, title) in all {
            XCTAssertEqual(try api.get("/v1/sources/\(id)").json()["title"], .string(title))
        }
        XCTAssertEqual(try app.count("sources"), 256)
        XCTAssertEqual(try app.query("SELECT count(*) AS n FROM change_log WHERE resource = 'sources'").first?.int("n"), 256)
    }

    func testAFailingWriteInABatchDoesNotDisturbItsNeighbours() throws {
        let api = ResourceAPI(app)
        let negotiation = try api.negotiation()
        _ = try api.source(url: "https://example.org/taken", title: "Taken")
        // SQLite counts its COMMITs with a hook; PostgreSQL has none, so there the writer's batches (/metrics) count.
        let commits: () throws -> Int
        if TestApp.engine == .sqlite {
            let counter = CommitCounter()
            try app.sqlitePool().withWriter { db in db.setCommitHook { counter.add(); return false } }
            commits = { counter.count }
        } else {
            let before = try batches(api)
            commits = { try self.batches(api) - before }
        }
        let release = app.holdWriter()
        let bodies: [(path: String, body: String, expected: Int)] = (0..<12).map { i in
            switch i % 4 {
            case 1: return ("/v1/rounds", #"{"negotiation_id":999999,"title":"Nowhere","city":"Bern","country":"CHE","starts_on":"2025-06-01","ends_on":"2025-06-02"}"#, 422)
            case 3: return ("/v1/sources", #"{"url":"https://example.org/taken","title":"Duplicate \#(i)"}"#, 409)
            default: return ("/v1/rounds", #"{"negotiation_id":\#(negotiation),"title":"Round \#(i)","city":"Bern","country":"CHE","starts_on":"2025-06-01","ends_on":"2025-06-02"}"#, 201)
            }
        }
        let results = LockedList<(Int, Int, String)>()
        let app = self.app!
        let group = DispatchGroup()
        for (i, request) in bodies.enumerated() {
            group.enter()
            Thread.detachNewThread {
                let response = try? ResourceAPI(app).post(request.path, request.body)
                results.append((i, response?.status ?? -1, response?.text ?? ""))
                group.leave()
            }
        }
        // All twelve wait for the writer; then one batch (or two, if the writer took the first before the rest came).
        XCTAssertTrue(eventually(timeout: 10) { app.app.writes.writer.pending == 12 }, "pending: \(app.app.writes.writer.pending)")
        release()
        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        for (i, status, text) in results.items {
            XCTAssertEqual(status, bodies[i].expected, "request \(i): \(text)")
        }
        XCTAssertLessThanOrEqual(try commits(), 2, "twelve writes, at most two commits")
        let titles = Set(try app.query("SELECT title FROM rounds").compactMap { $0.text("title") })
        XCTAssertEqual(titles, Set((0..<12).filter { $0 % 2 == 0 }.map { "Round \($0)" }))
        XCTAssertEqual(try app.count("sources"), 1, "the refused duplicates left nothing")
        XCTAssertEqual(try app.query("SELECT count(*) AS n FROM change_log WHERE resource = 'rounds'").first?.int("n"), 6,
                       "only the writes that succeeded are in the change log")
    }

    /// The writer's committed batches so far, from `db_write_batch_size_count` in /metrics.
    private func batches(_ api: ResourceAPI) throws -> Int {
        let metrics = try api.get("/metrics").text
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("db_write_batch_size_count ") }
        return try XCTUnwrap(line.flatMap { Int($0.split(separator: " ").last ?? "") }, metrics)
    }

    /// A batch with a failing write runs again with savepoints; a write that consumes input as it runs (an import)
    /// must not run twice, so its batch has savepoints from the start and it runs exactly once.
    func testAWriteThatCannotRunTwiceRunsOnceInABatchWithAFailingWrite() throws {
        let api = ResourceAPI(app)
        _ = try api.source(url: "https://example.org/taken", title: "Taken")
        let release = app.holdWriter()
        let app = self.app!
        let group = DispatchGroup()
        let statuses = LockedList<Int>()
        let runs = LockedList<Int>()
        let outcome = LockedList<Bool>()
        let context = WriteContext(actor: "test", requestID: nil, now: Timestamp.format(epochMilliseconds: 0), today: CalendarDate(daysSinceEpoch: 0))
        // A first write the writer takes at once and holds on to, so that the next four make one batch.
        group.enter()
        try app.app.writes.submit(context, { _ in }, completion: { _ in group.leave() })
        Thread.sleep(forTimeInterval: 0.3)   // the writer takes it into a batch of its own, then waits for the file
        group.enter()
        try app.app.writes.submit(context, rerunnable: false, { transaction in
            runs.append(1)
            try transaction.db.run("INSERT INTO app_settings (name, value) VALUES ('written_once', 'yes')")
        }, completion: { result in
            outcome.append((try? result.get()) != nil)
            group.leave()
        })
        // Queued first, so it has run when the failing writes after it send the batch round again.
        for i in 0..<3 {
            group.enter()
            Thread.detachNewThread {
                let response = try? ResourceAPI(app).post("/v1/sources", #"{"url":"https://example.org/taken","title":"Duplicate \#(i)"}"#)
                statuses.append(response?.status ?? -1)
                group.leave()
            }
        }
        XCTAssertTrue(eventually(timeout: 10) { app.app.writes.writer.pending == 5 }, "pending: \(app.app.writes.writer.pending)")
        release()
        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        XCTAssertEqual(statuses.items, [409, 409, 409])
        XCTAssertEqual(outcome.items, [true])
        XCTAssertEqual(runs.items.count, 1, "the write ran once")
        XCTAssertEqual(try app.query("SELECT value FROM app_settings WHERE name = 'written_once'").first?.text("value"), "yes")
    }

    /// PostgreSQL rolls a transaction back to resolve a deadlock or a serialization conflict (40P01, 40001): the
    /// writer runs the batch again instead of answering 503, and the write lands once.
    func testABatchRolledBackForAConflictRunsAgain() throws {
        let attempts = LockedList<Int>()
        let context = WriteContext(actor: "test", requestID: nil, now: TimeSource.system.now(), today: TimeSource.system.today())
        let done = DispatchSemaphore(value: 0)
        let outcome = LockedList<Result<Int64, Problem>>()
        try app.app.writes.submit(context, rerunnable: true, { transaction -> Int64 in
            attempts.append(1)
            let id = try ResourceStore(spec: Sources.spec).insert(transaction.db, ["title": .text("conflicted")], context: transaction.context)
            if attempts.items.count == 1 {
                throw StorageError(PGError(kind: .server, sqlState: "40P01", message: "deadlock detected"))
            }
            return id
        }, completion: { result in
            outcome.append(result)
            done.signal()
        })
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        let id = try XCTUnwrap(try outcome.items.first?.get())
        XCTAssertEqual(attempts.items.count, 2, "run again once")
        XCTAssertEqual(try app.query("SELECT count(*) AS n FROM sources").first?.int("n"), 1, "the first run was rolled back")
        XCTAssertEqual(try app.query("SELECT id FROM sources").first?.int("id"), id)
    }

    func testAFullWriteQueueAnswers503WithRetryAfter() throws {
        app.stop()
        app = try TestApp { $0.tokens = Fixtures.tokens; $0.writerQueueLimit = 2 }
        let release = app.holdWriter()
        let results = LockedList<(Int, String?, String)>()
        let app = self.app!
        let group = DispatchGroup()
        for i in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                let response = try? ResourceAPI(app).post("/v1/sources", #"{"title":"Queued \#(i)"}"#)
                results.append((response?.status ?? -1, response?.headers["Retry-After"], response?.text ?? ""))
                group.leave()
            }
        }
        XCTAssertTrue(eventually(timeout: 10) { results.items.count + app.app.writes.writer.pending == 8 },
                      "every write is either queued or refused at once, while the writer is held")
        XCTAssertFalse(results.items.isEmpty, "some were refused")
        XCTAssertTrue(results.items.allSatisfy { $0.0 == 503 }, "nothing was answered but the refusals")
        release()
        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        let refused = results.items.filter { $0.0 == 503 }
        let created = results.items.filter { $0.0 == 201 }
        XCTAssertEqual(refused.count + created.count, 8, "\(results.items)")
        XCTAssertGreaterThanOrEqual(created.count, 2, "the queue took at least its two")
        for (_, retryAfter, text) in refused {
            XCTAssertEqual(retryAfter, "1")
            XCTAssertTrue(text.contains("write_queue_full"), text)
        }
        XCTAssertEqual(try app.count("sources"), Int64(created.count), "every 201 is stored, nothing refused is")
    }

    func testShutdownFinishesQueuedWritesAndRefusesNewOnes() throws {
        let release = app.holdWriter()
        let results = LockedList<Int>()
        let app = self.app!
        let group = DispatchGroup()
        for i in 0..<5 {
            group.enter()
            Thread.detachNewThread {
                results.append((try? ResourceAPI(app).post("/v1/sources", #"{"title":"Before shutdown \#(i)"}"#))?.status ?? -1)
                group.leave()
            }
        }
        XCTAssertTrue(eventually(timeout: 10) { app.app.writes.writer.pending == 5 })
        let stopped = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            app.app.shutdown()
            stopped.signal()
        }
        XCTAssertTrue(eventually(timeout: 5) { app.app.server.isShuttingDown })
        // A write that reaches the service now is refused with 503; the queued ones still commit.
        let context = WriteContext(actor: "test", requestID: nil, now: TimeSource.system.now(), today: TimeSource.system.today())
        XCTAssertThrowsError(try app.app.writes.submit(context, { _ in 0 }, completion: { _ in })) { error in
            XCTAssertEqual((error as? Problem)?.status, 503)
        }
        release()
        XCTAssertEqual(group.wait(timeout: .now() + 20), .success)
        XCTAssertEqual(stopped.wait(timeout: .now() + 20), .success)
        XCTAssertEqual(results.items, Array(repeating: 201, count: 5), "every queued write was committed and answered")
        XCTAssertEqual(try app.query("SELECT count(*) AS n FROM sources").first?.int("n"), 5)
        self.app = nil
        app.postgres?.drop()
        try? FileManager.default.removeItem(at: app.directory)
    }

    /// kill -9 of a real server process while eight clients write: afterwards every acknowledged write is in the
    /// database and `integrity_check` is ok.
    func testKillMinus9DuringBatchedWritesLosesNoAcknowledgedWrite() throws {
        try TestApp.requireSQLite("a server process on an SQLite file")
        let directory = app.directory.appendingPathComponent("crash")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = directory.appendingPathComponent("crash.sqlite").path
        let process = Process()
        process.executableURL = TestApp.executable
        process.arguments = ["serve", "--port", "0", "--database", database, "--access-log", "off",
                             "--migrations", TestApp.packageRoot.appendingPathComponent("migrations").path,
                             "--openapi", TestApp.packageRoot.appendingPathComponent("openapi.yaml").path]
        process.environment = ["TRADE_TRACKER_TOKENS": Fixtures.tokens, "PATH": "/usr/bin:/bin"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let output = ChildProcess.readUntilListening(err)
        let match = try XCTUnwrap(output.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression), output)
        let port = try XCTUnwrap(Int(output[match].split(separator: ":").last ?? ""))

        let acknowledged = LockedList<(Int, String)>()
        let group = DispatchGroup()
        for writer in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let client = TestClient(port: port)
                for n in 0..<2_000 {
                    let title = "crash writer \(writer) #\(n)"
                    guard let response = try? client.request("POST", "/v1/sources", json: #"{"title":"\#(title)"}"#,
                                                             headers: [("Authorization", "Bearer \(Fixtures.writeToken)")]),
                          response.status == 201, let id = try? response.json()["id"]?.intValue else { return }
                    acknowledged.append((id, title))
                }
            }
        }
        XCTAssertTrue(eventually(timeout: 20) { acknowledged.items.count >= 200 }, "writes are flowing")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)

        let db = try SQLiteConnection(path: database)
        defer { db.close() }
        XCTAssertEqual(try db.scalar("PRAGMA integrity_check"), .text("ok"))
        XCTAssertEqual(try db.query("PRAGMA foreign_key_check").count, 0)
        var stored: [Int64: String] = [:]
        for row in try db.query("SELECT id, title FROM sources") { stored[row.int("id") ?? 0] = row.text("title") }
        let all = acknowledged.items
        XCTAssertGreaterThanOrEqual(all.count, 200)
        for (id, title) in all {
            XCTAssertEqual(stored[Int64(id)], title, "acknowledged write \(id) is stored")
        }
    }
}

/// A list several threads append to.
final class LockedList<T>: @unchecked Sendable {
    // `storage` is only touched while `lock` is held.
    private let lock = NSLock()
    private var storage: [T] = []
    func append(_ item: T) { lock.lock(); storage.append(item); lock.unlock() }
    var items: [T] { lock.lock(); defer { lock.unlock() }; return storage }
}

/// Counts commits seen by a commit hook (which runs on the writer thread).
final class CommitCounter: @unchecked Sendable {
    // `value` is only touched while `lock` is held.
    private let lock = NSLock()
    private var value = 0
    func add() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}
