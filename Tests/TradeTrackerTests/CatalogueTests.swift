import JSON
import XCTest
import SQLite
@testable import TradeTracker

/// The resource catalogue is the one list of resources: it must match the schema (tables, columns, search and
/// referrer tables), every name it holds must be storable in the change log, and the routes follow from it.
final class CatalogueTests: XCTestCase {
    var app: TestApp!

    override func setUpWithError() throws { app = try Fixtures.app() }
    override func tearDown() { app.stop() }

    private func columns(of table: String) throws -> Set<String> {
        let sql = TestApp.engine == .sqlite ? "SELECT name FROM pragma_table_info(?)"
            : "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?"
        return Set(try app.query(sql, [.text(table)]).compactMap { $0.text("name") })
    }

    func testEveryCatalogueResourceMatchesItsTable() throws {
        for spec in ResourceCatalogue.resources + ResourceCatalogue.subResources.map(\.spec) {
            let columns = try columns(of: spec.table)
            XCTAssertFalse(columns.isEmpty, "\(spec.name): no table \(spec.table)")
            for field in spec.fields { XCTAssertTrue(columns.contains(field.column), "\(spec.table) lacks \(field.column)") }
            for column in ["created_at", "updated_at", "version"] {
                XCTAssertTrue(columns.contains(column), "\(spec.table) lacks \(column)")
            }
            if let search = spec.list.searchTable {
                let sql = TestApp.engine == .sqlite ? "SELECT 1 FROM sqlite_master WHERE name = ?"
                    : "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
                XCTAssertFalse(try app.query(sql, [.text(search)]).isEmpty, "no \(search)")
            }
            for referrer in spec.referencedBy {
                let columns = try self.columns(of: referrer.table)
                XCTAssertTrue(columns.contains(referrer.column ?? "responds_to"), "\(referrer.table).\(referrer.column ?? "responds_to")")
            }
        }
    }

    func testTheChangeLogTakesEveryCatalogueNameAndTheRoutesFollowTheCatalogue() throws {
        try app.withConnection { db in
            try db.run("BEGIN")
            for name in ResourceCatalogue.changeLogNames {
                XCTAssertNoThrow(try db.run("""
                    INSERT INTO change_log (at, resource, record_id, action, changes)
                    VALUES ('2025-05-12T08:00:00.000Z', ?, 1, 'created', '{}')
                    """, [.text(name)]), name)
            }
            try db.run("ROLLBACK")
        }
        XCTAssertEqual(ResourceCatalogue.changeLogNames.count, Set(ResourceCatalogue.changeLogNames).count, "names are unique")
        let routes = Set(app.app.routes.map { "\($0.method) \($0.template)" })
        for spec in ResourceCatalogue.resources {
            for route in ["GET /v1/\(spec.name)", "POST /v1/\(spec.name)", "GET /v1/\(spec.name)/{id}", "PATCH /v1/\(spec.name)/{id}",
                          "DELETE /v1/\(spec.name)/{id}", "GET /v1/\(spec.name)/{id}/history"] {
                XCTAssertTrue(routes.contains(route), route)
            }
        }
        // The feed's resource filter takes exactly the catalogue's names.
        let api = ResourceAPI(app)
        for name in ResourceCatalogue.changeLogNames {
            XCTAssertEqual(try api.get("/v1/changes?resource=\(name)").status, 200, name)
        }
        XCTAssertEqual(try api.get("/v1/changes?resource=widgets").status, 400)
    }

    /// A database made with the schema before 0003 (resource names in a CHECK) upgrades with its change log intact,
    /// its seq counter carried over (a pruned newest seq is never handed out again), and takes new names after.
    func testTheChangeLogRebuildKeepsRowsAndTheSeqCounter() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-upgrade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let migrations = TestApp.packageRoot.appendingPathComponent("migrations").path
        let all = try Migrator.load(directory: migrations)
        let path = directory.appendingPathComponent("old.sqlite").path
        let db = try SQLiteConnection(path: path)
        try Migrator(migrations: all.migrations.filter { $0.version <= 2 }).migrate(db)
        for _ in 0..<3 {
            try db.run("""
                INSERT INTO change_log (at, resource, record_id, action, changes)
                VALUES ('2025-05-12T08:00:00.000Z', 'rounds', 7, 'created', '{"title":{"before":null,"after":"Geneva"}}')
                """)
        }
        try db.run("DELETE FROM change_log WHERE seq = 3")
        XCTAssertThrowsError(try db.run("""
            INSERT INTO change_log (at, resource, record_id, action, changes) VALUES ('2025-05-12T08:00:00.000Z', 'widgets', 1, 'created', '{}')
            """), "the old schema refuses a name it does not list")
        db.close()

        var configuration = TestApp.configuration(directory: directory)
        configuration.databasePath = path
        let upgraded = try TradeTrackerApp(configuration: configuration, logger: .init(minimumLevel: .error))
        try upgraded.start()
        defer { upgraded.shutdown() }
        let client = TestClient(port: upgraded.port)
        let history = try client.request("GET", "/v1/rounds/7/history").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(history.map { $0["seq"]?.intValue ?? -1 }, [1, 2])
        let check = try SQLiteConnection(path: path)
        defer { check.close() }
        try check.run("""
            INSERT INTO change_log (at, resource, record_id, action, changes) VALUES ('2025-05-12T08:00:00.000Z', 'widgets', 1, 'created', '{}')
            """)
        XCTAssertEqual(check.lastInsertRowID, 4, "seq 3 was handed out before the rebuild and is not reused")
    }
}

/// SQL text never grows with request values: LIMIT and IN lists are bound, so 500 distinct limits and many
/// filter combinations leave every connection's statement cache under its cap.
final class BoundedStatementTests: XCTestCase {
    func testDistinctLimitsAndFiltersKeepStatementCachesBounded() throws {
        let app = try Fixtures.app()
        defer { app.stop() }
        let api = ResourceAPI(app)
        let negotiation = try api.negotiation()
        _ = try api.round(negotiation: negotiation)
        let statuses = Rounds.statuses
        for limit in 1...500 {
            var query = "limit=\(limit)"
            // Vary how many values each filter ORs together, and which filters are present.
            let picked = statuses.enumerated().filter { (limit >> $0.offset) & 1 == 1 }.map(\.element)
            if !picked.isEmpty { query += "&status=" + picked.joined(separator: ",") }
            if limit % 3 == 0 { query += "&negotiation_id=" + (1...(limit % 7 + 1)).map(String.init).joined(separator: ",") }
            if limit % 5 == 0 { query += "&country=CHE,USA" }
            let response = try api.get("/v1/rounds?\(query)")
            XCTAssertEqual(response.status, 200, "\(query): \(response.text)")
            if limit % 50 == 0 {
                XCTAssertEqual(try api.get("/v1/changes?since=0&limit=\(limit)&resource=rounds,negotiations").status, 200)
                XCTAssertEqual(try api.get("/v1/negotiations/\(negotiation)/timeline?limit=\(limit)&kind=round_started,round_ended").status, 200)
            }
        }
        let counts = try app.sqlitePool().cachedStatementCounts()
        XCTAssertFalse(counts.isEmpty)
        for count in counts { XCTAssertLessThanOrEqual(count, 128) }
        // Bound, not interpolated: every variant of the list shares a handful of statements.
        XCTAssertLessThan(counts.max() ?? 0, 40, "\(counts)")
    }
}
