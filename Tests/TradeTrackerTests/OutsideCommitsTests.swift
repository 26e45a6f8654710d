import Foundation
import JSON
import SQLite
import XCTest
@testable import TradeTracker

/// A commit made by another process on the database file (an import while the server runs) reaches the change
/// feed's long polls and the tip `since=now` reports, as the server's own writes do.
final class OutsideCommitsTests: ResourceAPITestCase {
    private func outsideUpdate(source id: Int, title: String) throws {
        let other = try SQLiteConnection(path: app.databasePath)
        defer { other.close() }
        try other.run("BEGIN IMMEDIATE")
        try other.run("UPDATE sources SET title = ?, version = version + 1 WHERE id = ?", [.text(title), .integer(Int64(id))])
        try other.run("""
            INSERT INTO change_log (at, resource, record_id, action, actor, changes)
            VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'sources', ?, 'updated', 'outside', '{}')
            """, [.integer(Int64(id))])
        try other.run("COMMIT")
    }

    private func tip() throws -> Int64 {
        let page = try api.get("/v1/changes?since=now").json()
        return Int64(page["last_seq"]?.intValue ?? -1)
    }

    func testALongPollIsWokenByAnOutsideCommit() throws {
        try TestApp.requireSQLite("data_version; PostgreSQL will hear other instances by LISTEN/NOTIFY")
        let id = try api.create("/v1/sources", #"{"title":"inside"}"#)
        let since = try tip()
        let poller = app.client()
        try poller.sendRaw(Array("GET /v1/changes?since=\(since)&wait=4 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        Thread.sleep(forTimeInterval: 0.3)   // let the poll park
        try outsideUpdate(source: id, title: "outside")
        // Without the watcher the poll would answer at the end of its wait, with nothing: the server's own first
        // write after start (retention, at 5 s) comes later than that.
        let items = try poller.readResponse().json()["data"]?.arrayValue ?? []
        XCTAssertEqual(items.count, 1, "the poll heard the outside commit, not its own timeout")
        XCTAssertEqual(items.first?["actor"]?.stringValue, "outside")
        XCTAssertEqual(try tip(), since + 1)
        XCTAssertEqual(try api.get("/v1/sources/\(id)").json()["title"]?.stringValue, "outside")
    }

    func testALookPublishesOnlyATipPastTheKnownOne() throws {
        try TestApp.requireSQLite("data_version; PostgreSQL will hear other instances by LISTEN/NOTIFY")
        let id = try api.create("/v1/sources", #"{"title":"inside"}"#)
        let watcher = try OutsideCommits(path: app.databasePath, changes: ChangeSignal(seq: try tip()), interval: .seconds(3600))
        defer { watcher.stop() }
        XCTAssertNil(watcher.look(), "nothing changed since it started")
        try outsideUpdate(source: id, title: "outside")
        XCTAssertEqual(watcher.look(), try tip())
        XCTAssertNil(watcher.look())
    }
}
