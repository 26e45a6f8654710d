import Foundation
import JSON
import SQLite
import XCTest
@testable import TradeTracker

/// Migration 0006: created records are noted in `search_pending` and indexed by one statement before each COMMIT.
/// Whatever a transaction does to a record it created (update, delete, a write rolled back to its savepoint), the
/// committed index holds exactly the committed records, and no note outlives its transaction.
final class SearchIndexTests: ResourceAPITestCase {
    private func found(_ path: String, _ words: String) throws -> [Int] {
        let query = words.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? words
        let response = try api.get("\(path)?q=\(query)&limit=100")
        XCTAssertEqual(response.status, 200, response.text)
        return try response.json()["data"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []
    }

    /// No notes left, and FTS5's own check of every index against its content passes.
    /// PostgreSQL has neither: its search documents are written by triggers in the statement that writes the record.
    private func assertIndexWhole(file: StaticString = #filePath, line: UInt = #line) throws {
        guard TestApp.engine == .sqlite else { return }
        XCTAssertEqual(try app.query("SELECT count(*) AS n FROM search_pending").first?.int("n"), 0,
                       "a note outlived its transaction", file: file, line: line)
        let db = try SQLiteConnection(path: app.databasePath)
        defer { db.close() }
        for table in ["negotiations", "rounds", "participants", "issues", "statements", "sources", "export_controls"] {
            XCTAssertNoThrow(try db.execute("INSERT INTO \(table)_fts (\(table)_fts) VALUES ('integrity-check')"),
                             "\(table)_fts", file: file, line: line)
        }
    }

    func testWhatABatchDoesToTheRecordsItCreatesIsWhatSearchFinds() throws {
        let response = try api.post("/v1/batch", """
            {"operations":[
             {"method":"POST","path":"/v1/sources","body":{"title":"Geneva joint statement","publisher":"Xinhua"}},
             {"method":"POST","path":"/v1/sources","body":{"title":"Stockholm readout"}},
             {"method":"POST","path":"/v1/sources","body":{"title":"Kuala Lumpur framework"}},
             {"method":"PATCH","path":"/v1/sources/$0.id","body":{"title":"Geneva communique"}},
             {"method":"DELETE","path":"/v1/sources/$1.id"},
             {"method":"POST","path":"/v1/participants","body":{"name":"He Lifeng","country":"CHN","aliases":["Vice Premier He"]}},
             {"method":"PATCH","path":"/v1/participants/$5.id","body":{"aliases":["Lifeng He"]}}
            ]}
            """)
        XCTAssertEqual(response.status, 200, response.text)
        let results = try response.json()["results"]?.arrayValue ?? []
        XCTAssertEqual(results.map { $0["status"]?.intValue ?? 0 }, [201, 201, 201, 200, 204, 201, 200])
        guard results.count == 7 else { return }
        let geneva = results[0]["body"]?["id"]?.intValue ?? -1
        let kualaLumpur = results[2]["body"]?["id"]?.intValue ?? -1
        let he = results[5]["body"]?["id"]?.intValue ?? -1

        XCTAssertEqual(try found("/v1/sources", "communique"), [geneva], "indexed with the title it was committed with")
        XCTAssertEqual(try found("/v1/sources", "joint"), [], "not with the title it had before the PATCH")
        XCTAssertEqual(try found("/v1/sources", "xinhua"), [geneva])
        XCTAssertEqual(try found("/v1/sources", "stockholm"), [], "deleted in the same batch")
        XCTAssertEqual(try found("/v1/sources", "kuala"), [kualaLumpur])
        XCTAssertEqual(try found("/v1/participants", "lifeng"), [he], "aliases as the PATCH left them")
        XCTAssertEqual(try found("/v1/participants", "premier"), [])
        try assertIndexWhole()

        // A record indexed by an earlier transaction follows its updates and deletes as before.
        XCTAssertEqual(try api.patch("/v1/sources/\(kualaLumpur)", #"{"title":"Busan summit"}"#).status, 200)
        XCTAssertEqual(try found("/v1/sources", "kuala"), [])
        XCTAssertEqual(try found("/v1/sources", "busan"), [kualaLumpur])
        XCTAssertEqual(try api.delete("/v1/sources/\(kualaLumpur)").status, 204)
        XCTAssertEqual(try found("/v1/sources", "busan"), [])
        try assertIndexWhole()
    }

    func testConcurrentCreatesCommittedTogetherAreAllFoundAndAFailingOneLeavesNoNote() throws {
        _ = try api.source(url: "https://example.org/taken", title: "Taken")
        let release = app.holdWriter()
        let statuses = LockedList<Int>()
        let group = DispatchGroup()
        let app = self.app!
        for i in 0..<9 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let api = ResourceAPI(app)
                // Every third one takes a URL already stored: a 409 in the middle of the batch, rolled back alone.
                let url = i % 3 == 2 ? "https://example.org/taken" : "https://example.org/\(i)"
                let status = (try? api.post("/v1/sources", #"{"url":"\#(url)","title":"tranche\#(i) soybeans"}"#).status) ?? -1
                statuses.append(status)
            }
        }
        Thread.sleep(forTimeInterval: 0.3)   // let all nine reach the writer's queue, so they share a transaction
        release()
        XCTAssertEqual(group.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(statuses.items.sorted(), [201, 201, 201, 201, 201, 201, 409, 409, 409])
        XCTAssertEqual(try found("/v1/sources", "soybeans").count, 6)
        XCTAssertEqual(try found("/v1/sources", "tranche2"), [], "the refused write left nothing to index")
        XCTAssertEqual(try found("/v1/sources", "tranche3").count, 1)
        try assertIndexWhole()
    }

    func testRecordsAnotherProgramCommittedWithoutIndexingAreIndexedAtStart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-search-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("shared.sqlite").path
        let start = { try TestApp { $0.databasePath = path; $0.tokens = Fixtures.tokens } }
        let first = try start()
        first.stop()
        do {
            // As the sqlite3 shell would: an insert whose trigger notes the row, and no flush before COMMIT.
            let db = try SQLiteConnection(path: path)
            defer { db.close() }
            try db.execute("""
                INSERT INTO sources (title, created_at, updated_at)
                VALUES ('Madrid talks readout', '2025-09-14T10:00:00.000Z', '2025-09-14T10:00:00.000Z')
                """)
            XCTAssertEqual(try db.query("SELECT count(*) AS n FROM search_pending").first?.int("n"), 1)
        }
        app.stop()
        app = try start()
        api = ResourceAPI(app)
        XCTAssertEqual(try found("/v1/sources", "madrid").count, 1)
        try assertIndexWhole()
    }
}
