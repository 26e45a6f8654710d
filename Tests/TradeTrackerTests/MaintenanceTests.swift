import Foundation
import JSON
import XCTest
import SQLite
import HTTPServer
@testable import TradeTracker

/// Backups and checks of a live database, and what the server deletes by itself (API.md §5).
final class MaintenanceTests: XCTestCase {
    static let adminToken = "admin-token-0123456789abcdef"
    static let tokens = Fixtures.tokens + ",ops:admin:\(adminToken)"

    func testBackupOfALiveServerIsConsistentAndCheckPassesOnItAndFailsOnADamagedFile() throws {
        try TestApp.requireSQLite("backup and check work on the file")
        let app = try TestApp { $0.tokens = Self.tokens }
        defer { app.stop() }
        let api = ResourceAPI(app)
        for i in 0..<20 { _ = try api.source(title: "Before the backup \(i)") }
        // Writes keep coming while the backup runs.
        let stop = LockedList<Bool>()
        let writer = Thread {
            let api = ResourceAPI(app)
            var i = 0
            while stop.items.isEmpty && i < 500 { _ = try? api.post("/v1/sources", #"{"title":"During the backup \#(i)"}"#); i += 1 }
        }
        writer.start()
        let copy = app.directory.appendingPathComponent("copies/backup.sqlite").path
        let result = try ChildProcess.run(["backup", copy, "--database", app.databasePath])
        stop.append(true)
        XCTAssertEqual(result.status, 0, result.stderr)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: copy)[.size] as? Int)
        XCTAssertEqual(result.stdout, "backup \(copy): \(size) bytes, sha256 \(try SHA256.hexOfFile(copy).hex)\n")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: (copy as NSString).deletingLastPathComponent).contains { $0.contains(".partial") },
                       "no temporary file is left")
        let backup = try SQLiteConnection(path: copy, flags: [.readOnly])
        defer { backup.close() }
        XCTAssertEqual(try backup.scalar("PRAGMA integrity_check"), .text("ok"))
        let sources = try backup.scalar("SELECT count(*) FROM sources")
        let logged = try backup.scalar("SELECT count(*) FROM change_log WHERE resource = 'sources'")
        XCTAssertEqual(sources, logged, "a consistent snapshot: every record with its change-log row")
        guard case .integer(let count)? = sources else { return XCTFail("no count") }
        XCTAssertGreaterThanOrEqual(count, 20)

        let clean = try ChildProcess.run(["check", "--database", copy])
        XCTAssertEqual(clean.status, 0, clean.stdout + clean.stderr)
        XCTAssertTrue(clean.stdout.contains("integrity ok, foreign keys ok"))
        XCTAssertEqual(try ChildProcess.run(["check", "--database", app.databasePath]).status, 0, "check works on the live database too")

        // Damage the copy: overwrite a page in the middle of the file.
        let damaged = app.directory.appendingPathComponent("damaged.sqlite").path
        try FileManager.default.copyItem(atPath: copy, toPath: damaged)
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: damaged))
        try handle.seek(toOffset: UInt64(size / 2 / 4096 * 4096 + 4096))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 4096))
        try handle.close()
        let broken = try ChildProcess.run(["check", "--database", damaged])
        XCTAssertEqual(broken.status, 1, broken.stdout + broken.stderr)
        XCTAssertFalse(broken.stdout.isEmpty)
    }

    func testTheAdminBackupEndpointNeedsAnAdminToken() throws {
        try TestApp.requireSQLite("the backup copies the file")
        let app = try TestApp { $0.tokens = Self.tokens }
        defer { app.stop() }
        _ = try ResourceAPI(app).source(title: "Backed up")
        let client = app.client()
        XCTAssertEqual(try client.request("POST", "/v1/admin/backup").status, 401)
        let writer = try client.request("POST", "/v1/admin/backup", headers: [("Authorization", "Bearer \(Fixtures.writeToken)")])
        XCTAssertEqual(writer.status, 403)
        let done = try client.request("POST", "/v1/admin/backup", headers: [("Authorization", "Bearer \(Self.adminToken)")])
        XCTAssertEqual(done.status, 201, done.text)
        let json = try done.json()
        XCTAssertEqual(json.keys, ["path", "bytes", "sha256", "created_at"])
        let path = try XCTUnwrap(json["path"]?.stringValue)
        XCTAssertTrue(path.hasPrefix(app.directory.appendingPathComponent("backups").path), path)
        let file = try SHA256.hexOfFile(path)
        XCTAssertEqual(json["sha256"], .string(file.hex))
        XCTAssertEqual(json["bytes"], .int(file.bytes))
        let copy = try SQLiteConnection(path: path, flags: [.readOnly])
        defer { copy.close() }
        XCTAssertEqual(try copy.scalar("SELECT title FROM sources"), .text("Backed up"))
        let options = try client.request("POST", "/v1/admin/backup", json: #"{"to":"/etc"}"#,
                                         headers: [("Authorization", "Bearer \(Self.adminToken)")])
        XCTAssertEqual(options.status, 422, "it takes no options")
    }

    func testRetentionDeletesExpiredKeysAndPrunesTheChangeLogAfterWhichOlderPositionsAreGone() throws {
        let clock = SteppingTestClock(start: "2025-05-12T08:00:00Z")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-retention-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = TestApp.configuration(directory: directory) { $0.tokens = Fixtures.tokens }
        configuration.changeLogRetentionDays = 7
        configuration.retentionInterval = .seconds(3600)
        let app = try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .error), clock: TimeSource { clock.milliseconds })
        try app.start()
        defer { app.shutdown() }
        let client = TestClient(port: app.port)
        let auth = [("Authorization", "Bearer \(Fixtures.writeToken)")]
        let old = try client.request("POST", "/v1/sources", json: #"{"title":"Old"}"#, headers: auth + [("Idempotency-Key", "old-key")])
        let oldID = try XCTUnwrap(try old.json()["id"]?.intValue)
        _ = try client.request("PATCH", "/v1/sources/\(oldID)", json: #"{"title":"Old, edited"}"#, headers: auth)
        clock.advance(milliseconds: 10 * 86_400_000)
        let recent = try client.request("POST", "/v1/sources", json: #"{"title":"Recent"}"#, headers: auth)
        XCTAssertEqual(recent.status, 201)

        let deleted = app.retention.run()
        XCTAssertEqual(deleted.idempotencyKeys, 1, "the 10-day-old key is past its 24 hours")
        XCTAssertEqual(deleted.changes, 2, "the two changes older than 7 days")
        let page = try client.request("GET", "/v1/changes?since=0")
        XCTAssertEqual(page.status, 410, "since=0 is behind what the log keeps")
        XCTAssertEqual(try page.json()["code"], .string("gone"))
        XCTAssertEqual(try client.request("GET", "/v1/changes?since=2").status, 200, "since = the last pruned seq misses nothing")
        XCTAssertEqual(try client.request("GET", "/v1/changes?since=2").json()["data"]?.arrayValue?.count, 1)
        let stream = try EventStreamClient(port: app.port, lastEventID: "1")
        defer { stream.close() }
        XCTAssertEqual(stream.status, 410)
        // The record is still there with its history pruned: an empty history, not a 404.
        let history = try client.request("GET", "/v1/sources/\(oldID)/history")
        XCTAssertEqual(history.status, 200)
        XCTAssertEqual(try history.json()["data"]?.arrayValue?.count, 0)
        // The key is gone: the same key makes a new record now.
        let again = try client.request("POST", "/v1/sources", json: #"{"title":"Old"}"#, headers: auth + [("Idempotency-Key", "old-key")])
        XCTAssertEqual(again.status, 201)
        XCTAssertNil(again.headers["Idempotent-Replayed"])
        // The tip never moves backwards, even when every row is pruned.
        clock.advance(milliseconds: 30 * 86_400_000)
        _ = app.retention.run()
        XCTAssertEqual(try client.request("GET", "/v1/changes?since=now").json()["last_seq"], .int(4))
    }
}
