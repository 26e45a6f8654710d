import JSON
import XCTest
import Foundation
import HTTPServer
import SQLite
@testable import TradeTracker

/// Migration 0004 on a database that already holds data (issue #10): it adds what is new — suspensions, hs_codes,
/// responds_to, record_complete_through, rounds.source_id, the export_controls table — without rewriting the
/// migrations already applied, and every old row reads back through the API with the new fields at their defaults.
final class MeasuresMigrationTests: XCTestCase {
    /// The checksums (SHA-256 of the file) of the migrations applied before 0004. A database in the field records
    /// these; a changed file would refuse to start there (`checksumMismatch`).
    static let appliedChecksums = [
        1: "10c5f9220c1820f8c77c9d05918f11f397d30f4b5fdd1c2aab24f71b67648444",
        2: "0264e8fad6499c2eb3b349fd0feae570a53e138a69706f0ff1f1b38325611858",
        3: "2e1fae54169089ae65af87ff632fd152c040ece60f31d8a5902112137f4c1c77",
    ]

    var directory: URL!
    var path: String { directory.appendingPathComponent("old.sqlite").path }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-measures-upgrade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    private func columns(_ db: SQLiteConnection, _ table: String) throws -> Set<String> {
        Set(try db.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).compactMap { $0.text("name") })
    }

    /// A database as 0001–0003 left it, with a source, a negotiation, a round, two tariff measures and the change row
    /// of one of them, written with the old schema.
    private func makeOldDatabase() throws {
        let all = try Migrator.load(directory: TestApp.packageRoot.appendingPathComponent("migrations").path)
        XCTAssertEqual(all.migrations.map(\.version), [1, 2, 3, 4, 5, 6])
        let db = try SQLiteConnection(path: path)
        defer { db.close() }
        try Migrator(migrations: all.migrations.filter { $0.version <= 3 }).migrate(db)
        XCTAssertFalse(try columns(db, "tariff_measures").contains("suspensions"), "the old schema")
        XCTAssertFalse(try columns(db, "negotiations").contains("record_complete_through"))
        XCTAssertTrue(try db.query("SELECT 1 FROM sqlite_master WHERE name = 'export_controls'").isEmpty)
        let at = "2025-05-12T08:00:00.000Z"
        try db.run("""
            INSERT INTO sources (title, publisher, published_on, created_at, updated_at)
            VALUES ('Joint Statement on Economic and Trade Meeting', 'The White House', '2025-05-12', ?, ?)
            """, [.text(at), .text(at)])
        try db.run("""
            INSERT INTO negotiations (slug, title, parties, status, summary, started_on, created_at, updated_at)
            VALUES ('us-china-2025', 'US–China trade talks 2025', '["USA","CHN"]', 'active', 'Geneva and after', '2025-05-10', ?, ?)
            """, [.text(at), .text(at)])
        try db.run("""
            INSERT INTO rounds (negotiation_id, sequence, title, city, country, starts_on, ends_on, status, outcome, created_at, updated_at)
            VALUES (1, 1, 'Geneva talks', 'Geneva', 'CHE', '2025-05-10', '2025-05-11', 'concluded', 'Joint statement', ?, ?)
            """, [.text(at), .text(at)])
        try db.run("""
            INSERT INTO tariff_measures (imposed_by, imposed_on, rate_hundredths, coverage, legal_basis, status, announced_on,
                                         effective_from, effective_until, negotiation_id, source_id, notes, created_at, updated_at)
            VALUES ('USA', 'CHN', 12500, 'all_goods', 'IEEPA (reciprocal), EO 14266', 'enacted', '2025-04-09',
                    '2025-04-10', '2025-05-14', 1, 1, 'Stacked on the fentanyl tariffs', ?, ?)
            """, [.text(at), .text(at)])
        try db.run("""
            INSERT INTO tariff_measures (imposed_by, imposed_on, rate_hundredths, effective_from, negotiation_id, created_at, updated_at)
            VALUES ('USA', 'CHN', 1000, '2025-02-04', 1, ?, ?)
            """, [.text(at), .text(at)])
        try db.run("""
            INSERT INTO change_log (at, resource, record_id, action, changes)
            VALUES (?, 'tariff-measures', 1, 'created', '{"rate_percent":{"before":null,"after":125}}')
            """, [.text(at)])
    }

    private func start() throws -> TestApp {
        let path = self.path
        return try TestApp {
            $0.databasePath = path
            $0.tokens = Fixtures.tokens
        }
    }

    func testAnOldDatabaseUpgradesKeepsItsRowsAndReadsThemWithTheNewFieldsDefaulted() throws {
        try makeOldDatabase()
        let app = try start()
        defer { app.stop() }
        let api = ResourceAPI(app)

        let negotiation = try api.get("/v1/negotiations/1").json()
        XCTAssertEqual(negotiation.keys, ["id"] + NegotiationsTests.fields + ["created_at", "updated_at", "version"])
        XCTAssertEqual(negotiation["slug"], .string("us-china-2025"))
        XCTAssertEqual(negotiation["summary"], .string("Geneva and after"))
        XCTAssertEqual(negotiation["record_complete_through"], .null)
        XCTAssertEqual(negotiation["version"], .int(1))
        XCTAssertEqual(negotiation["created_at"], .string("2025-05-12T08:00:00.000Z"))

        let round = try api.get("/v1/rounds/1").json()
        XCTAssertEqual(round.keys, ["id"] + RoundsTests.fields + ["created_at", "updated_at", "version"])
        XCTAssertEqual(round["outcome"], .string("Joint statement"))
        XCTAssertEqual(round["source_id"], .null)

        let measure = try api.get("/v1/tariff-measures/1").json()
        XCTAssertEqual(measure.keys, ["id"] + TariffMeasuresTests.fields + ["created_at", "updated_at", "version"])
        XCTAssertEqual(measure["rate_percent"], .int(125))
        XCTAssertEqual(measure["legal_basis"], .string("IEEPA (reciprocal), EO 14266"))
        XCTAssertEqual(measure["effective_until"], .string("2025-05-14"))
        XCTAssertEqual(measure["negotiation_id"], .int(1))
        XCTAssertEqual(measure["source_id"], .int(1))
        XCTAssertEqual(measure["notes"], .string("Stacked on the fentanyl tariffs"))
        for name in ["suspensions", "hs_codes", "responds_to"] { XCTAssertEqual(measure[name], .array([]), name) }
        XCTAssertEqual(measure["in_effect_today"], .bool(false))
        XCTAssertEqual(measure["version"], .int(1))
        XCTAssertEqual(try api.get("/v1/tariff-measures/2").json()["in_effect_today"], .bool(true))
        XCTAssertEqual(try api.get("/v1/tariff-measures/1/history").json().column("seq"), [.int(1)], "the old change row is kept")

        // The views read the old rows by the new rules.
        XCTAssertEqual(try api.get("/v1/tariff-rates?imposed_by=USA&imposed_on=CHN&as_of=2025-05-09").json()["total_rate_percent"], .int(135))
        XCTAssertEqual(try api.get("/v1/tariff-rates?imposed_by=USA&imposed_on=CHN&as_of=2025-05-09").json()["suspended"], .array([]))
        XCTAssertEqual(Measures.lines(try api.get("/v1/tariff-rates/history?imposed_by=USA&imposed_on=CHN&from=2025-01-01&to=2025-12-31").json()),
                       ["2025-01-01 2025-02-04 0", "2025-02-04 2025-04-10 10", "2025-04-10 2025-05-14 135", "2025-05-14 - 10"])
        XCTAssertEqual(try api.get("/v1/tariff-measures?hs_code=8505").ids(), [])
        XCTAssertEqual(try api.get("/v1/tariff-measures/1/responses").data(), [])
        XCTAssertEqual(try api.get("/v1/export-controls").data(), [])
        let status = try XCTUnwrap(try api.get("/v1/status").json()["negotiations"]?.arrayValue?.first)
        XCTAssertEqual(status["record_complete_through"], .null)
        XCTAssertEqual(status["tariff_rates"]?.arrayValue?.map { $0["beyond_record"] ?? .null }, [.bool(false), .bool(false)])
        XCTAssertEqual(status["export_controls_in_effect"], .array([
            .object([("imposed_by", .string("USA")), ("count", .int(0)), ("beyond_record", .bool(false))]),
            .object([("imposed_by", .string("CHN")), ("count", .int(0)), ("beyond_record", .bool(false))]),
        ]))
        let timeline = try api.get("/v1/negotiations/1/timeline").json().column("kind")
        XCTAssertEqual(timeline, ["tariff_effective", "tariff_effective", "round_started", "round_ended", "tariff_ended"].map(JSONValue.string))

        // The bookkeeping: 0001–0003 as they were applied, 0004 added.
        let applied = try app.query("SELECT version, checksum FROM schema_migrations ORDER BY version")
        XCTAssertEqual(applied.map { $0.int("version") ?? -1 }, [1, 2, 3, 4, 5, 6])
        for row in applied.prefix(3) {
            let version = Int(row.int("version") ?? -1)
            XCTAssertEqual(row.text("checksum"), Self.appliedChecksums[version], "migration \(version) is not rewritten")
        }
        let files = try Migrator.load(directory: TestApp.packageRoot.appendingPathComponent("migrations").path)
        for migration in files.migrations where migration.version <= 3 {
            XCTAssertEqual(migration.checksum, Self.appliedChecksums[migration.version], "the file of migration \(migration.version) is unchanged")
        }
        XCTAssertEqual(try app.count("tariff_measures"), 2)
        XCTAssertEqual(try app.count("negotiations"), 1)
        XCTAssertEqual(try app.count("rounds"), 1)
        XCTAssertEqual(try app.count("sources"), 1)
    }

    func testTheUpgradedDatabaseTakesTheNewFieldsAndSurvivesARestart() throws {
        try makeOldDatabase()
        do {
            let app = try start()
            defer { app.stop() }
            let api = ResourceAPI(app)
            let patched = try api.patch("/v1/tariff-measures/2", #"""
                {"suspensions":[{"from":"2025-03-01","until":"2025-04-01","note":"paused"}],"hs_codes":["8505"],
                 "responds_to":[{"type":"tariff-measures","id":1}]}
                """#)
            XCTAssertEqual(patched.status, 200, patched.text)
            XCTAssertEqual(try patched.json()["version"], .int(2))
            XCTAssertEqual(try api.patch("/v1/negotiations/1", #"{"record_complete_through":"2025-05-16"}"#).status, 200)
            XCTAssertEqual(try api.patch("/v1/rounds/1", #"{"source_id":1}"#).status, 200)
            let control = try api.exportControl(extra: #","negotiation_id":1,"responds_to":[{"type":"tariff-measures","id":2}]"#)
            XCTAssertEqual(control, 1)
            Problems.assertProblem(try api.delete("/v1/tariff-measures/1"), status: 409, code: "referenced")
            XCTAssertEqual(try api.get("/v1/tariff-measures/1/responses").ids(), [2])
            let rows = try app.changeRows("tariff-measures", 2)
            XCTAssertEqual(rows.map(\.action), ["updated"], "the row created before the upgrade had no change row of its own")
            XCTAssertEqual(rows.first?.seq, 2, "the change log's seq continues after the old row")
            XCTAssertEqual(rows.first?.changes.keys, ["suspensions", "hs_codes", "responds_to"])
            XCTAssertEqual(rows.first?.changes["hs_codes"], .change(.array([]), .array([.string("8505")])))
        }
        // A second start finds nothing to migrate and serves what the first one wrote.
        let again = try start()
        defer { again.stop() }
        let api = ResourceAPI(again)
        XCTAssertEqual(try again.query("SELECT count(*) AS n FROM schema_migrations").first?.int("n"), 6)
        let measure = try api.get("/v1/tariff-measures/2").json()
        XCTAssertEqual(measure["suspensions"], .array([Measures.window("2025-03-01", "2025-04-01", "paused")]))
        XCTAssertEqual(measure["hs_codes"], .array([.string("8505")]))
        XCTAssertEqual(measure["responds_to"], .array([Measures.reference("tariff-measures", 1)]))
        XCTAssertEqual(try api.get("/v1/negotiations/1").json()["record_complete_through"], .string("2025-05-16"))
        XCTAssertEqual(try api.get("/v1/rounds/1").json()["source_id"], .int(1))
        XCTAssertEqual(try api.get("/v1/export-controls").ids(), [1])
        XCTAssertEqual(try api.get("/v1/tariff-rates?imposed_by=USA&imposed_on=CHN&as_of=2025-03-15").json()["total_rate_percent"], .int(0),
                       "the 10 % is suspended in March")
        Problems.assertProblem(try api.delete("/v1/sources/1"), status: 409, code: "referenced")
    }
}
