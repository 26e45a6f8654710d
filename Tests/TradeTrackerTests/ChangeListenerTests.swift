import Foundation
import HTTPServer
import PostgreSQL
import XCTest
@testable import TradeTracker

/// The cross-instance wake-up on PostgreSQL: a commit announced by another connection reaches this instance's
/// ChangeSignal; a rolled-back one or an older seq does not; a lost connection is made again and the tip caught up.
final class ChangeListenerTests: PostgresTestCase {
    /// NOTIFY channels are per database, not per schema: each test listens on its own so no two tests hear each other.
    private var channel = ""
    private var listener: ChangeListener?
    private let context = WriteContext(actor: "tester", requestID: nil, now: "2025-05-12T08:30:00.123Z",
                                       today: CalendarDate(year: 2025, month: 5, day: 12)!)

    override func setUpWithError() throws {
        try super.setUpWithError()
        try loadMigrator().migrate(db)
        channel = "tt_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    override func tearDown() {
        if let listener { XCTAssertTrue(listener.stop(timeout: .seconds(3)), "the listener stops within its bound") }
        super.tearDown()
    }

    private func listen(to signal: ChangeSignal, backoff: ChangeListener.Backoff = .init()) throws -> ChangeListener {
        let started = try ChangeListener(url: database.scopedURL, changes: signal, logger: Logger(minimumLevel: .error),
                                         channel: channel, backoff: backoff, slice: .milliseconds(200))
        listener = started
        return started
    }

    /// Writes one change-log row as the writer does; announces it in the same transaction when `announced`.
    @discardableResult
    private func commitChange(on connection: PGConnection, announced: Bool = true) throws -> Int64 {
        let executor = PostgresExecutor(connection)
        return try executor.transaction {
            try ChangeLog.append(executor, resource: "rounds", recordID: 1, action: .created, changesJSON: Array("{}".utf8), context: context)
            guard case .integer(let seq)? = try executor.scalar(SQLDialect.postgres.changeLogTip, []) else {
                throw Abandoned()
            }
            if announced { try ChangeListener.announce(seq, in: executor, channel: channel) }
            return seq
        }
    }

    func testACommitByAnotherConnectionReachesTheSignalWithinASecond() throws {
        let signal = ChangeSignal(seq: 0)
        _ = try listen(to: signal)
        let heard = Heard()
        signal.listen { heard.append($0) }
        let started = ContinuousClock.now
        let seq = try commitChange(on: db)
        XCTAssertTrue(eventually(timeout: 1) { signal.seq == seq }, "tip \(signal.seq), committed \(seq)")
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))
        XCTAssertEqual(heard.seqs, [seq], "long polls and streams are woken once")
    }

    func testTheStartPublishesATipWrittenBeforeIt() throws {
        let first = try commitChange(on: db, announced: false)
        let second = try commitChange(on: db, announced: false)
        XCTAssertEqual(second, first + 1)
        let signal = ChangeSignal(seq: first)
        _ = try listen(to: signal)
        XCTAssertEqual(signal.seq, second)
    }

    func testARolledBackAnnouncementNeverArrives() throws {
        let signal = ChangeSignal(seq: 0)
        _ = try listen(to: signal)
        let executor = PostgresExecutor(db)
        XCTAssertThrowsError(try executor.transaction {
            try ChangeLog.append(executor, resource: "rounds", recordID: 1, action: .created, changesJSON: Array("{}".utf8), context: context)
            try ChangeListener.announce(1, in: executor, channel: channel)
            throw Abandoned()
        })
        XCTAssertFalse(eventually(timeout: 1) { signal.seq != 0 }, "tip \(signal.seq)")
        // The listener is alive: the next commit is heard, with the seq the rolled-back one had (the counter rolled back too).
        XCTAssertEqual(try commitChange(on: db), 1)
        XCTAssertTrue(eventually(timeout: 2) { signal.seq == 1 })
    }

    func testASeqNotNewerThanTheTipIsIgnored() throws {
        let signal = ChangeSignal(seq: 10)
        _ = try listen(to: signal)
        let heard = Heard()
        signal.listen { heard.append($0) }
        let executor = PostgresExecutor(db)
        try ChangeListener.announce(3, in: executor, channel: channel)
        try ChangeListener.announce(10, in: executor, channel: channel)
        try ChangeListener.announce(12, in: executor, channel: channel) // delivered after the two: NOTIFY keeps order
        XCTAssertTrue(eventually(timeout: 2) { signal.seq == 12 })
        XCTAssertEqual(heard.seqs, [12], "3 and 10 woke nobody")
    }

    func testAPayloadThatIsNoSeqMakesItReadTheTip() throws {
        let signal = ChangeSignal(seq: 0)
        _ = try listen(to: signal)
        let seq = try commitChange(on: db, announced: false)
        try db.notify(channel, payload: "something changed") // a hand-sent hint
        XCTAssertTrue(eventually(timeout: 2) { signal.seq == seq }, "tip \(signal.seq), committed \(seq)")
    }

    func testAfterItsBackendIsKilledItReconnectsAndCatchesUpOnACommitMadeMeanwhile() throws {
        let signal = ChangeSignal(seq: 0)
        // A first retry long enough that the commit below certainly lands while the listener is away.
        let started = try listen(to: signal, backoff: .init(first: .milliseconds(700), longest: .seconds(2)))
        let killed = started.backendProcessID
        XCTAssertNotEqual(killed, 0)
        XCTAssertEqual(try db.scalar("SELECT pg_terminate_backend($1::int4)", [.integer(Int64(killed))]), .boolean(true))
        XCTAssertTrue(eventually(timeout: 2) { started.backendProcessID == 0 }, "the listener noticed the loss")
        let seq = try commitChange(on: db) // its NOTIFY reaches no one
        XCTAssertTrue(eventually(timeout: 3) { signal.seq == seq }, "tip \(signal.seq), committed \(seq)")
        XCTAssertEqual(started.reconnections, 1)
        let backend = started.backendProcessID
        XCTAssertNotEqual(backend, 0)
        XCTAssertNotEqual(backend, killed)
        // And it LISTENs again: the next commit arrives as a notification.
        let next = try commitChange(on: db)
        XCTAssertTrue(eventually(timeout: 1) { signal.seq == next })
    }

    func testStopIsBoundedWhileReconnecting() throws {
        let signal = ChangeSignal(seq: 0)
        let started = try listen(to: signal, backoff: .init(first: .seconds(30), longest: .seconds(30)))
        _ = try db.scalar("SELECT pg_terminate_backend($1::int4)", [.integer(Int64(started.backendProcessID))])
        XCTAssertTrue(eventually(timeout: 2) { started.backendProcessID == 0 })
        let stopping = ContinuousClock.now
        XCTAssertTrue(started.stop(timeout: .seconds(2)))
        XCTAssertLessThan(ContinuousClock.now - stopping, .seconds(1), "stop ends the backoff sleep")
        XCTAssertTrue(started.stop(timeout: .zero), "a second stop answers at once")
    }

    func testTheBackoffDoublesUpToItsBound() {
        let backoff = ChangeListener.Backoff(first: .milliseconds(100), longest: .seconds(1))
        XCTAssertEqual((0...6).map { backoff.delay(afterFailures: $0) },
                       [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1), .seconds(1)])
        XCTAssertEqual(backoff.delay(afterFailures: 10_000), .seconds(1))
    }

    func testAWrongURLFailsAtTheStart() {
        XCTAssertThrowsError(try ChangeListener(url: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", changes: ChangeSignal(seq: 0),
                                                logger: Logger(minimumLevel: .error)))
    }
}

private struct Abandoned: Error {}

/// The seqs a ChangeSignal told its listeners, in order.
private final class Heard: @unchecked Sendable {
    // `values` is guarded by `lock`.
    private let lock = NSLock()
    private var values: [Int64] = []

    func append(_ seq: Int64) {
        lock.lock()
        values.append(seq)
        lock.unlock()
    }

    var seqs: [Int64] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}
