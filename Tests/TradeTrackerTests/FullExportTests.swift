import XCTest
import Foundation
import JSON
import SQLite
@testable import TradeTracker

/// `trade-tracker export DIR` and its way back (`trade-tracker import DIR`): the same bytes as the HTTP exports, a
/// manifest that describes them, one snapshot, and a round trip into an empty database that gives every record
/// back exactly, ETags included.
final class FullExportTests: ResourceAPITestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        app = try TestApp {
            $0.tokens = Fixtures.tokens
            $0.loadDemoData = true
            $0.demoFile = TestApp.packageRoot.appendingPathComponent("demo/us-china-2025.json").path
        }
        api = ResourceAPI(app)
        folder = app.directory.appendingPathComponent("export")
    }

    private var migrations: String { TestApp.packageRoot.appendingPathComponent("migrations").path }

    private func export(_ destination: URL? = nil) throws -> FullExport.Summary {
        try FullExport.run(database: app.databasePath, migrationsDirectory: migrations, to: (destination ?? folder).path)
    }

    private func file(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    /// Changes beyond the demo data that an exact round trip must survive: versions above 1, a gap in the ids and in
    /// a negotiation's round sequence, a measure answering one with a later id (so after it in the files).
    private func makeTheDataAwkward() throws {
        let source = try api.source(title: "To be patched")
        XCTAssertEqual(try api.patch("/v1/sources/\(source)", #"{"publisher":"Reuters, \"wire\"\nline two"}"#).status, 200)
        let gone = try api.source(title: "Deleted")
        XCTAssertEqual(try api.delete("/v1/sources/\(gone)").status, 204)
        let negotiation = try api.negotiation(extra: #","record_complete_through":"2025-11-30""#)
        let skipped = try api.round(negotiation: negotiation, title: "Cancelled before it was held")
        try api.round(negotiation: negotiation, title: "Held", starts: "2025-07-01", ends: "2025-07-02")
        XCTAssertEqual(try api.delete("/v1/rounds/\(skipped)").status, 204)
        let control = try api.create("/v1/export-controls",
                                     #"{"imposed_by":"CHN","items":["gallium"],"control":"ban","effective_from":"2025-12-01"}"#)
        let measures = try api.get("/v1/tariff-measures?limit=1").json()["data"]?.arrayValue ?? []
        let first = try XCTUnwrap(measures.first?["id"]?.intValue)
        let patched = try api.patch("/v1/tariff-measures/\(first)", #"{"responds_to":[{"type":"export-controls","id":\#(control)}]}"#)
        XCTAssertEqual(patched.status, 200, patched.text)
    }

    func testTheFilesAreTheHTTPExportsAndTheManifestDescribesThem() throws {
        try makeTheDataAwkward()
        let summary = try export()
        let manifest = try JSONParser.parse(try file(FullExport.manifestName))
        XCTAssertEqual(manifest["format"], .string("trade-tracker-export"))
        XCTAssertEqual(manifest["format_version"], .int(1))
        XCTAssertTrue(Fixtures.isTimestamp(manifest["created_at"]?.stringValue))
        XCTAssertEqual(manifest["schema_version"], .int(Int64(try Migrator.load(directory: migrations).migrations.last!.version)))
        XCTAssertEqual(manifest["migrations"]?.arrayValue?.compactMap(\.stringValue), try Migrator.load(directory: migrations).migrations.map(\.identifier))
        XCTAssertEqual(manifest["last_change_seq"]?.intValue, try api.get("/v1/changes?since=now").json()["last_seq"]?.intValue)
        XCTAssertEqual(manifest["last_change_seq"]?.intValue, Int(summary.lastChangeSeq))
        let negotiations = try api.get("/v1/negotiations?limit=500").json()["data"]?.arrayValue ?? []
        XCTAssertEqual(manifest["negotiations"]?.arrayValue?.map { [$0["id"], $0["slug"], $0["record_complete_through"]] },
                       negotiations.map { [$0["id"], $0["slug"], $0["record_complete_through"]] })
        XCTAssertTrue(manifest["negotiations"]?.arrayValue?.contains { $0["record_complete_through"] == .string("2025-11-30") } ?? false)
        XCTAssertEqual(manifest["id_counters"]?.keys, TransferCatalogue.all.filter(\.hasID).map(\.name))
        for resource in TransferCatalogue.all where resource.hasID {
            // The engine's own counter: SQLite's sqlite_sequence, PostgreSQL's identity sequence.
            let counter = TestApp.engine == .sqlite
                ? try app.query("SELECT seq FROM sqlite_sequence WHERE name = ?", [.text(resource.spec.table)]).first?.int("seq")
                : try app.query("SELECT pg_sequence_last_value(pg_get_serial_sequence(?, 'id')) AS seq", [.text(resource.spec.table)]).first?.int("seq")
            XCTAssertEqual(manifest["id_counters"]?[resource.name]?.intValue.map(Int64.init), counter ?? 0, resource.name)
        }
        let sourceIDs = try String(decoding: file("sources.ndjson"), as: UTF8.self).split(separator: "\n").compactMap { try JSONParser.parse(Array($0.utf8))["id"]?.intValue }
        XCTAssertGreaterThan(manifest["id_counters"]?["sources"]?.intValue ?? 0, sourceIDs.max() ?? 0, "the deleted last source's id counts")

        let files = manifest["files"]?.arrayValue ?? []
        XCTAssertEqual(files.compactMap { $0["name"]?.stringValue },
                       TransferCatalogue.names.flatMap { ["\($0).ndjson", "\($0).csv"] })
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)),
                       Set(files.compactMap { $0["name"]?.stringValue } + [FullExport.manifestName]))
        for entry in files {
            let name = entry["name"]?.stringValue ?? ""
            let bytes = try file(name)
            XCTAssertEqual(entry["sha256"]?.stringValue, SHA256.hex(bytes), name)
            XCTAssertEqual(entry["bytes"]?.intValue, bytes.count, name)
            let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").count
            let rows = entry["format"] == .string("csv") ? try parsedCSVRows(bytes) - 1 : lines
            XCTAssertEqual(entry["rows"]?.intValue, rows, name)
            XCTAssertGreaterThan(rows, 0, "\(name): the demo data has some of every kind")
        }
        // Each resource's files are its list's export over HTTP, byte for byte.
        for spec in ResourceCatalogue.resources {
            for format in ["ndjson", "csv"] {
                let http = try api.get("/v1/\(spec.name)?format=\(format)")
                XCTAssertEqual(http.status, 200)
                XCTAssertTrue(try file("\(spec.name).\(format)") == http.body, "\(spec.name).\(format) differs from its HTTP export")
            }
        }
        // Attendance: every round's export, one after another in round order.
        let rounds = (try api.get("/v1/rounds?limit=500").json()["data"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue }
        var attendance: [UInt8] = []
        for round in rounds.sorted() { attendance += try api.get("/v1/rounds/\(round)/participants?format=ndjson").body }
        XCTAssertTrue(try file("round-participants.ndjson") == attendance, "round-participants.ndjson differs from the rounds' exports")
        // Issue updates: every issue's export lines, in id order in the file.
        let issues = (try api.get("/v1/issues?limit=500").json()["data"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue }
        var updates: [Substring] = []
        for issue in issues { updates += try api.get("/v1/issues/\(issue)/updates?format=ndjson").text.split(separator: "\n") }
        let updateLines = String(decoding: try file("issue-updates.ndjson"), as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(updateLines.sorted(), updates.sorted())
        let ids = try updateLines.map { try JSONParser.parse(Array($0.utf8))["id"]?.intValue ?? 0 }
        XCTAssertEqual(ids, ids.sorted())
    }

    /// Rows of RFC 4180 text (quoted fields may hold line breaks).
    private func parsedCSVRows(_ bytes: [UInt8]) throws -> Int {
        var rows = 0, quoted = false
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if byte == 10 && !quoted { rows += 1 }
        }
        return rows
    }

    func testExportThenImportIntoAnEmptyDatabaseGivesEveryRecordBackExactly() throws {
        try makeTheDataAwkward()
        _ = try export()
        // The copy goes to the engine the suite runs on: a new file, or a new schema.
        let restoredSchema = TestApp.engine == .postgres ? try TestApp.postgresSchema() : nil
        defer { restoredSchema?.drop() }
        let restoredPath = restoredSchema?.scopedURL ?? app.directory.appendingPathComponent("restored.sqlite").path
        let run = try ChildProcess.run(["import", folder.path, "--database", restoredPath, "--migrations", migrations])
        XCTAssertEqual(run.status, 0, run.stderr)
        let rows = (try JSONParser.parse(try file(FullExport.manifestName))["files"]?.arrayValue ?? [])
            .filter { $0["format"] == .string("ndjson") }.reduce(0) { $0 + ($1["rows"]?.intValue ?? 0) }
        XCTAssertTrue(run.stdout.hasPrefix("imported \(rows) rows in "), run.stdout)

        let restored = try TestApp {
            $0.databasePath = restoredPath
            $0.tokens = Fixtures.tokens
        }
        defer { restored.stop() }
        let original = api.client, copy = restored.client()
        for spec in ResourceCatalogue.resources {
            for format in ["ndjson", "csv"] {
                let path = "/v1/\(spec.name)?format=\(format)"
                XCTAssertEqual(try copy.request("GET", path).text, try original.request("GET", path).text, path)
            }
            let ids = try original.request("GET", "/v1/\(spec.name)?format=ndjson").text.split(separator: "\n")
                .compactMap { try JSONParser.parse(Array($0.utf8))["id"]?.intValue }
            XCTAssertFalse(ids.isEmpty, spec.name)
            for id in ids {
                let a = try original.request("GET", "/v1/\(spec.name)/\(id)"), b = try copy.request("GET", "/v1/\(spec.name)/\(id)")
                XCTAssertEqual(b.status, 200, "\(spec.name) \(id)")
                XCTAssertEqual(b.text, a.text, "\(spec.name) \(id)")
                XCTAssertEqual(b.headers["ETag"], a.headers["ETag"], "\(spec.name) \(id)")
            }
        }
        for round in try ids(original, "/v1/rounds") {
            let path = "/v1/rounds/\(round)/participants?format=ndjson"
            XCTAssertEqual(try copy.request("GET", path).body, try original.request("GET", path).body, path)
        }
        for issue in try ids(original, "/v1/issues") {
            let path = "/v1/issues/\(issue)/updates?format=ndjson"
            XCTAssertEqual(try copy.request("GET", path).body, try original.request("GET", path).body, path)
        }
        XCTAssertEqual(try copy.request("GET", "/v1/tariff-rates?imposed_by=USA&imposed_on=CHN&as_of=2025-05-15").text,
                       try original.request("GET", "/v1/tariff-rates?imposed_by=USA&imposed_on=CHN&as_of=2025-05-15").text)
        // A second export of the copy has the very same files (the manifest differs in its time and change log).
        let again = app.directory.appendingPathComponent("again")
        _ = try FullExport.run(database: restoredPath, migrationsDirectory: migrations, to: again.path)
        for name in TransferCatalogue.names.flatMap({ ["\($0).ndjson", "\($0).csv"] }) {
            XCTAssertTrue(Array(try Data(contentsOf: again.appendingPathComponent(name))) == (try file(name)), name)
        }
        // The copy hands out no id the original had handed out (the last source was deleted, its id is retired too).
        let next = try api.source(title: "After the export")
        XCTAssertEqual(try ResourceAPI(restored).source(title: "After the export"), next)
    }

    private func ids(_ client: TestClient, _ path: String) throws -> [Int] {
        (try client.request("GET", path + "?limit=500").json()["data"]?.arrayValue ?? []).compactMap { $0["id"]?.intValue }
    }

    func testTheExportIsOneSnapshotWhileWritesGoOn() throws {
        let stop = DispatchSemaphore(value: 0), stopped = DispatchSemaphore(value: 0)
        let port = app.port
        Thread.detachNewThread {
            let writer = TestClient(port: port)
            var n = 0
            while stop.wait(timeout: .now()) == .timedOut {
                n += 1
                _ = try? writer.request("POST", "/v1/sources", json: #"{"title":"Written during the export \#(n)"}"#,
                                        headers: [("Authorization", "Bearer \(Fixtures.writeToken)")])
            }
            stopped.signal()
        }
        defer { stop.signal(); stopped.wait() }
        usleep(50_000)
        let summary = try export()
        let seq = summary.lastChangeSeq
        // Exactly the sources created up to the manifest's seq are in the files, in both formats.
        let created = try app.query("SELECT record_id FROM change_log WHERE resource = 'sources' AND action = 'created' AND seq <= ?",
                                    [.integer(seq)]).compactMap { $0.int("record_id") }
        let exported = try String(decoding: file("sources.ndjson"), as: UTF8.self).split(separator: "\n")
            .map { try JSONParser.parse(Array($0.utf8))["id"]?.intValue ?? 0 }
        XCTAssertEqual(exported.map(Int64.init), created.sorted())
        XCTAssertEqual(summary.files.first { $0.name == "sources.csv" }?.rows, exported.count)
        XCTAssertGreaterThan(try app.query("SELECT count(*) AS n FROM change_log WHERE seq > ?", [.integer(seq)]).first?.int("n") ?? 0, 0,
                             "writes went on during the export")
    }

    func testTheDestinationMustBeNewOrEmptyAndNothingIsLeftHalfWritten() throws {
        let empty = app.directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: false)
        XCTAssertGreaterThan(try export(empty).rows, 0)
        XCTAssertThrowsError(try export(empty)) { error in
            XCTAssertTrue("\(error)".contains("is not empty"), "\(error)")
        }
        let plain = app.directory.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: plain)
        XCTAssertThrowsError(try export(plain)) { XCTAssertTrue("\($0)".contains("is not a folder"), "\($0)") }
        let siblings = try FileManager.default.contentsOfDirectory(atPath: app.directory.path)
        XCTAssertFalse(siblings.contains { $0.contains(".partial-") }, "\(siblings)")
        XCTAssertThrowsError(try FullExport.run(database: app.directory.appendingPathComponent("none.sqlite").path,
                                                migrationsDirectory: migrations, to: folder.path)) {
            XCTAssertTrue("\($0)".contains("no database"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path))
    }
}
