import Foundation
import JSON
import XCTest
import HTTPServer
import SQLite
@testable import TradeTracker

/// API.md §5: when the database cannot be written, writes answer 503 `storage_unavailable` with Retry-After, reads
/// and /healthz keep serving, /readyz answers 503, and the server recovers by itself once the fault is gone.
final class StorageFaultTests: XCTestCase {
    private func assertStorageUnavailable(_ response: TestResponse, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, 503, response.text, file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/problem+json", file: file, line: line)
        XCTAssertEqual(try? response.json()["code"], .string("storage_unavailable"), file: file, line: line)
        XCTAssertEqual(response.headers["Retry-After"], "5", file: file, line: line)
    }

    private func assertServesReads(_ api: ResourceAPI, source id: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try api.get("/v1/sources/\(id)").status, 200, file: file, line: line)
        XCTAssertEqual(try api.get("/v1/sources").status, 200, file: file, line: line)
        XCTAssertEqual(try api.get("/healthz").status, 200, file: file, line: line)
    }

    /// A read-only database (SQLITE_READONLY, injected with `PRAGMA query_only` on the writer: as root, file modes
    /// cannot make a file read-only).
    func testAReadOnlyDatabaseAnswers503AndRecoversWithoutARestart() throws {
        let app = try Fixtures.app()
        defer { app.stop() }
        let api = ResourceAPI(app)
        let kept = try api.source(title: "Written before the fault")
        try app.sqlitePool().withWriter { try $0.execute("PRAGMA query_only = ON") }
        assertStorageUnavailable(try api.post("/v1/sources", #"{"title":"Refused"}"#))
        assertStorageUnavailable(try api.patch("/v1/sources/\(kept)", #"{"title":"Refused too"}"#))
        let ready = try api.get("/readyz")
        XCTAssertEqual(ready.status, 503)
        XCTAssertEqual(try ready.json()["checks"]?["database_writable"], .bool(false))
        XCTAssertNotEqual(try ready.json()["checks"]?["database_problem"], .null)
        try assertServesReads(api, source: kept)

        try app.sqlitePool().withWriter { try $0.execute("PRAGMA query_only = OFF") }
        XCTAssertEqual(try api.get("/readyz").status, 200, "ready again by itself")
        XCTAssertEqual(try api.post("/v1/sources", #"{"title":"Accepted again"}"#).status, 201)
        XCTAssertEqual(try app.count("sources"), 2, "nothing refused was stored, nothing acknowledged was lost")
    }

    /// A real full disk: the database on a 2 MiB tmpfs, filled up. Needs permission to mount (root, as in CI).
    func testAFullDiskAnswers503AndRecoversWhenSpaceIsFreed() throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("tt-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        guard Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint.path]) == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (needs root); the read-only test covers the same path")
        }
        defer { _ = Self.run("/bin/umount", ["-l", mountPoint.path]) }
        var configuration = TestApp.configuration(directory: mountPoint) { $0.tokens = Fixtures.tokens }
        configuration.databasePath = mountPoint.appendingPathComponent("db.sqlite").path
        let app = try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .error, fd: open("/dev/null", O_WRONLY)))
        try app.start()
        defer { app.shutdown() }
        let client = TestClient(port: app.port)
        let auth = [("Authorization", "Bearer \(Fixtures.writeToken)")]
        let first = try client.request("POST", "/v1/sources", json: #"{"title":"Before the disk filled"}"#, headers: auth)
        XCTAssertEqual(first.status, 201)
        let firstID = try XCTUnwrap(try first.json()["id"]?.intValue)

        // Fill the disk to the last byte.
        let filler = mountPoint.appendingPathComponent("filler")
        XCTAssertTrue(FileManager.default.createFile(atPath: filler.path, contents: nil))
        let handle = try FileHandle(forWritingTo: filler)
        let block = Data(repeating: 0x55, count: 4096)
        while (try? handle.write(contentsOf: block)) != nil {}
        try? handle.close()

        var acknowledged: [Int] = [firstID]
        var refused = 0
        let notes = String(repeating: "x", count: 9_000)
        for i in 0..<40 {
            let response = try client.request("POST", "/v1/sources", json: #"{"title":"Write \#(i) \#(notes)"}"#.replacingOccurrences(of: notes, with: String(notes.prefix(400))), headers: auth)
            if response.status == 201, let id = try response.json()["id"]?.intValue { acknowledged.append(id) } else {
                XCTAssertEqual(response.status, 503, response.text)
                XCTAssertEqual(try response.json()["code"], .string("storage_unavailable"))
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 0, "a full disk refuses writes")
        XCTAssertEqual(try client.request("GET", "/readyz").status, 503)
        XCTAssertEqual(try client.request("GET", "/healthz").status, 200)
        XCTAssertEqual(try client.request("GET", "/v1/sources/\(firstID)").status, 200, "reads still work")

        try FileManager.default.removeItem(at: filler)
        XCTAssertEqual(try client.request("GET", "/readyz").status, 200, "ready again once space is freed")
        let after = try client.request("POST", "/v1/sources", json: #"{"title":"After space was freed"}"#, headers: auth)
        XCTAssertEqual(after.status, 201)
        acknowledged.append(try XCTUnwrap(try after.json()["id"]?.intValue))
        for id in acknowledged { XCTAssertEqual(try client.request("GET", "/v1/sources/\(id)").status, 200, "acknowledged \(id)") }
        let check = try SQLiteConnection(path: configuration.databasePath, flags: [.readOnly])
        defer { check.close() }
        XCTAssertEqual(try check.scalar("PRAGMA integrity_check"), .text("ok"))
        XCTAssertEqual(try check.scalar("SELECT count(*) FROM sources"), .integer(Int64(acknowledged.count)))
    }

    /// A database file deleted under the running server: writes would go to an unlinked file and vanish at the next
    /// start, so they are refused, /readyz says why, and the log says so.
    func testADeletedDatabaseFileIsNoticedAndWritesAreRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-deleted-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let logFile = directory.appendingPathComponent("server.log")
        XCTAssertTrue(FileManager.default.createFile(atPath: logFile.path, contents: nil))
        let log = try FileHandle(forWritingTo: logFile)
        let configuration = TestApp.configuration(directory: directory) { $0.tokens = Fixtures.tokens }
        let app = try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .info, fd: log.fileDescriptor))
        try app.start()
        defer { app.shutdown(); try? log.close() }
        let client = TestClient(port: app.port)
        let auth = [("Authorization", "Bearer \(Fixtures.writeToken)")]
        let before = try client.request("POST", "/v1/sources", json: #"{"title":"Before the file was deleted"}"#, headers: auth)
        XCTAssertEqual(before.status, 201)
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: configuration.databasePath + suffix) }

        let refused = try client.request("POST", "/v1/sources", json: #"{"title":"Into a deleted file"}"#, headers: auth)
        assertStorageUnavailable(refused)
        XCTAssertTrue(refused.text.contains("deleted"), refused.text)
        let ready = try client.request("GET", "/readyz")
        XCTAssertEqual(ready.status, 503)
        XCTAssertTrue((try ready.json()["checks"]?["database_problem"]?.stringValue ?? "").contains("deleted"))
        XCTAssertEqual(try client.request("GET", "/healthz").status, 200)
        app.logger.flush()
        let text = try String(contentsOf: logFile, encoding: .utf8)
        XCTAssertTrue(text.contains("was deleted while the server was running"), text)
    }

    private static func run(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
