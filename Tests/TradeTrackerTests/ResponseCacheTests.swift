import Foundation
import JSON
import SQLite
import XCTest
@testable import TradeTracker

/// The response cache answers repeated reads without querying, and never serves an answer older than a commit —
/// whether the commit came through the API or from another connection to the file (an import, the sqlite3 shell).
final class ResponseCacheTests: ResourceAPITestCase {
    private func titles(_ path: String) throws -> [String] {
        let response = try api.get(path)
        XCTAssertEqual(response.status, 200, response.text)
        return try response.json()["data"]?.arrayValue?.compactMap { $0["title"]?.stringValue } ?? []
    }

    func testRepeatedReadsAreServedFromTheCacheWithTheSameBytesAndETag() throws {
        try TestApp.requireSQLite("the response cache needs data_version until LISTEN/NOTIFY")
        let id = try api.create("/v1/sources", #"{"title":"cached source"}"#)
        let first = try api.get("/v1/sources/\(id)")
        let listFirst = try api.get("/v1/sources?limit=5")
        XCTAssertEqual(app.app.responses.count, 2)
        let second = try api.get("/v1/sources/\(id)")
        let listSecond = try api.get("/v1/sources?limit=5")
        XCTAssertEqual(second.body, first.body)
        XCTAssertEqual(second.headers["ETag"], first.headers["ETag"])
        XCTAssertEqual(listSecond.body, listFirst.body)
        XCTAssertEqual(listSecond.headers["ETag"], listFirst.headers["ETag"])
        XCTAssertEqual(app.app.responses.count, 2)
        // A conditional GET of a cached answer is still a 304.
        let conditional = try api.get("/v1/sources/\(id)", headers: [("If-None-Match", first.headers["ETag"] ?? "")])
        XCTAssertEqual(conditional.status, 304)
    }

    func testAWriteThroughTheAPIIsSeenByTheNextRead() throws {
        let id = try api.create("/v1/sources", #"{"title":"before"}"#)
        XCTAssertEqual(try titles("/v1/sources?limit=100").contains("before"), true)
        let before = try api.get("/v1/sources/\(id)")
        let patched = try api.patch("/v1/sources/\(id)", #"{"title":"after"}"#)
        XCTAssertEqual(patched.status, 200, patched.text)
        // Several reads, so that every reader connection of the pool is asked.
        for _ in 0..<8 {
            let list = try titles("/v1/sources?limit=100")
            XCTAssertTrue(list.contains("after"))
            XCTAssertFalse(list.contains("before"))
            let one = try api.get("/v1/sources/\(id)")
            XCTAssertEqual(try one.json()["title"]?.stringValue, "after")
            XCTAssertNotEqual(one.headers["ETag"], before.headers["ETag"])
        }
    }

    func testACommitFromAnotherConnectionIsSeenByTheNextRead() throws {
        try TestApp.requireSQLite("the response cache needs data_version until LISTEN/NOTIFY")
        let id = try api.create("/v1/sources", #"{"title":"written by the server"}"#)
        for _ in 0..<8 { _ = try titles("/v1/sources?limit=100") }
        XCTAssertGreaterThan(app.app.responses.count, 0)
        XCTAssertTrue(app.app.responses.watchesWALIndex, "a SQLite file: hits need no reader")
        // Another connection (as another process would) changes the row behind the server's back.
        let other = try SQLiteConnection(path: app.databasePath)
        try other.run("UPDATE sources SET title = 'written elsewhere', version = version + 1 WHERE id = ?", [.integer(Int64(id))])
        other.close()
        for _ in 0..<8 {
            let list = try titles("/v1/sources?limit=100")
            XCTAssertTrue(list.contains("written elsewhere"), "\(list)")
            let one = try api.get("/v1/sources/\(id)")
            XCTAssertEqual(try one.json()["title"]?.stringValue, "written elsewhere")
        }
    }

    func testTheCacheIsBoundedByEntries() throws {
        let cache = ResponseCache(maxEntries: 3, maxBytes: 1 << 20, maxEntryBytes: 1024)
        let db = try SQLiteConnection(path: ":memory:")
        guard let generation = try cache.generation(db) else { return XCTFail("no data_version") }
        for i in 0..<10 {
            cache.put(.init(resource: "sources", target: "/v1/sources/\(i)", day: 0), generation: generation,
                      .json(Array("{}".utf8)))
            XCTAssertLessThanOrEqual(cache.count, 3)
        }
        // Too large to keep.
        cache.put(.init(resource: "sources", target: "/big", day: 0), generation: generation, .json([UInt8](repeating: 32, count: 2048)))
        XCTAssertNil(cache.get(.init(resource: "sources", target: "/big", day: 0), generation: generation))
        // An answer made before a commit that was noticed meanwhile is not kept.
        cache.put(.init(resource: "sources", target: "/old", day: 0), generation: generation &- 1, .json(Array("{}".utf8)))
        XCTAssertNil(cache.get(.init(resource: "sources", target: "/old", day: 0), generation: generation &- 1))
    }
}
