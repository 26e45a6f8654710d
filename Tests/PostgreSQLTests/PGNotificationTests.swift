import Foundation
import XCTest
@testable import PostgreSQL

final class PGNotificationTests: PGLiveTestCase {
    private var listener: PGConnection!
    private var sender: PGConnection { db }

    override func setUpWithError() throws {
        try super.setUpWithError()
        listener = try database.connect()
    }

    override func tearDown() {
        listener?.close()
        super.tearDown()
    }

    func testNotifyReachesAListenerOnAnotherConnection() throws {
        try listener.listen("Trade.Events") // quoted: case and dots survive
        XCTAssertEqual(listener.channels, ["Trade.Events"])
        try sender.notify("Trade.Events", payload: "round 7 ✓")
        try sender.notify("other")
        let started = ContinuousClock.now
        let received = try listener.waitForNotifications(timeout: .seconds(5))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4))
        XCTAssertEqual(received, [PGNotification(channel: "Trade.Events", payload: "round 7 ✓", processID: sender.backendProcessID)])
        XCTAssertEqual(try listener.notifications(), [])
    }

    func testWaitWakesWhenANotificationArrivesLater() throws {
        try listener.listen("feed")
        let url = database.scopedURL
        let sent = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer { sent.signal() }
            Thread.sleep(forTimeInterval: 0.2)
            guard let connection = try? PGConnection(url) else { return }
            try? connection.notify("feed", payload: "late")
            connection.close()
        }
        let started = ContinuousClock.now
        let received = try listener.waitForNotifications(timeout: .seconds(5))
        let waited = ContinuousClock.now - started
        XCTAssertEqual(received.map(\.payload), ["late"])
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(150))
        XCTAssertLessThan(waited, .seconds(4))
        XCTAssertEqual(sent.wait(timeout: .now() + 5), .success)
    }

    func testWaitTimesOutWithNothing() throws {
        try listener.listen("quiet")
        let started = ContinuousClock.now
        XCTAssertEqual(try listener.waitForNotifications(timeout: .milliseconds(200)), [])
        let waited = ContinuousClock.now - started
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(190))
        XCTAssertLessThan(waited, .seconds(2))
    }

    func testDeliveryFollowsTheSendersTransaction() throws {
        try listener.listen("tx")
        XCTAssertThrowsError(try sender.transaction {
            try sender.notify("tx", payload: "rolled back")
            throw PGError.misuse("abandon")
        })
        try sender.transaction {
            try sender.notify("tx", payload: "committed")
            XCTAssertEqual(try listener.waitForNotifications(timeout: .milliseconds(100)), [], "not before COMMIT")
        }
        XCTAssertEqual(try listener.waitForNotifications(timeout: .seconds(5)).map(\.payload), ["committed"])
    }

    func testTheSocketTurnsReadableForAnExternalPoll() throws {
        try listener.listen("polled")
        try sender.notify("polled", payload: "1")
        var entry = pollfd(fd: listener.socketDescriptor, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&entry, 1, 5000), 1)
        XCTAssertEqual(try listener.notifications().map(\.payload), ["1"])
    }

    func testUnlistenStopsDeliveryAndBadChannelsAreRefused() throws {
        try listener.listen("gone")
        try listener.unlisten("gone")
        try sender.notify("gone")
        XCTAssertEqual(try listener.waitForNotifications(timeout: .milliseconds(100)), [])
        XCTAssertThrowsPGError(try listener.listen("")) { XCTAssertEqual($0.kind, .misuse) }
        XCTAssertThrowsPGError(try listener.listen(String(repeating: "x", count: 64))) { XCTAssertEqual($0.kind, .misuse) }
    }
}
