import JSON
import XCTest
import Foundation
import HTTPServer
import SQLite
@testable import TradeTracker

/// API.md §6 and ../shared/demo-facts.md: the US–China 2025 demo data as the API serves it.
final class DemoDataTests: XCTestCase {
    static let demoFile = TestApp.packageRoot.appendingPathComponent("demo/us-china-2025.json").path
    var api: ConventionAPI!

    override func setUpWithError() throws {
        api = try ConventionAPI {
            $0.loadDemoData = true
            $0.demoFile = Self.demoFile
        }
    }

    override func tearDown() { api.stop() }

    private func negotiationID() throws -> Int {
        let response = try api.get("/v1/negotiations/by-slug/us-china-2025")
        XCTAssertEqual(response.status, 200)
        return try XCTUnwrap(try response.json()["id"]?.intValue)
    }

    private func participantID(named name: String) throws -> Int {
        let all = try api.get("/v1/participants?limit=500").data()
        return try XCTUnwrap(all.first { $0["name"]?.stringValue == name }?["id"]?.intValue, name)
    }

    func testNegotiationBySlug() throws {
        let response = try api.get("/v1/negotiations/by-slug/us-china-2025")
        XCTAssertEqual(response.status, 200)
        XCTAssertNotNil(response.headers["ETag"])
        let json = try response.json()
        XCTAssertEqual(json["slug"], .string("us-china-2025"))
        XCTAssertEqual(json["title"], .string("US–China trade talks 2025"))
        XCTAssertEqual(json["parties"], .array([.string("USA"), .string("CHN")]))
        XCTAssertEqual(json["status"], .string("active"))
        XCTAssertEqual(json["started_on"], .string("2025-05-10"))
        XCTAssertEqual(json["record_complete_through"], .string("2026-05-16"), "checked through the end of the Beijing summit")
        XCTAssertEqual(json["version"]?.intValue, 1)
        XCTAssertEqual(try api.get("/v1/negotiations").ids(), [try XCTUnwrap(json["id"]?.intValue)], "exactly one negotiation")
        XCTAssertEqual(try api.get("/v1/negotiations/by-slug/no-such-talks").status, 404)
    }

    func testSevenConcludedRoundsInOrder() throws {
        let n = try negotiationID()
        let rounds = try api.get("/v1/rounds?negotiation_id=\(n)&sort=starts_on").data()
        let expected: [(String, String, String, String, String)] = [
            ("Geneva talks", "Geneva", "CHE", "2025-05-10", "2025-05-11"),
            ("London talks", "London", "GBR", "2025-06-09", "2025-06-10"),
            ("Stockholm talks", "Stockholm", "SWE", "2025-07-28", "2025-07-29"),
            ("Madrid talks", "Madrid", "ESP", "2025-09-14", "2025-09-15"),
            ("Kuala Lumpur talks", "Kuala Lumpur", "MYS", "2025-10-25", "2025-10-26"),
            ("Busan leaders' meeting", "Busan", "KOR", "2025-10-30", "2025-10-30"),
            ("Beijing summit", "Beijing", "CHN", "2026-05-14", "2026-05-16"),
        ]
        XCTAssertEqual(rounds.count, 7)
        for (i, (round, facts)) in zip(rounds, expected).enumerated() {
            XCTAssertEqual(round["title"], .string(facts.0), "round \(i + 1)")
            XCTAssertEqual(round["city"], .string(facts.1), "round \(i + 1)")
            XCTAssertEqual(round["country"], .string(facts.2), "round \(i + 1)")
            XCTAssertEqual(round["starts_on"], .string(facts.3), "round \(i + 1)")
            XCTAssertEqual(round["ends_on"], .string(facts.4), "round \(i + 1)")
            XCTAssertEqual(round["status"], .string("concluded"), "round \(i + 1)")
            XCTAssertEqual(round["sequence"]?.intValue, i + 1)
            XCTAssertEqual(round["negotiation_id"]?.intValue, n)
        }
        XCTAssertEqual(try api.get("/v1/rounds?status=concluded&limit=500").ids().count, 7)
        XCTAssertEqual(try api.get("/v1/rounds?sort=-sequence").strings("city"),
                       ["Beijing", "Busan", "Kuala Lumpur", "Madrid", "Stockholm", "London", "Geneva"])
        // Every round names the source its facts come from.
        for round in rounds {
            let source = try XCTUnwrap(round["source_id"]?.intValue, "\(round["title"] ?? .null) has a source_id")
            XCTAssertEqual(try api.get("/v1/sources/\(source)").status, 200)
        }
    }

    func testParticipantsAliasesAndSearch() throws {
        let all = try api.get("/v1/participants?limit=500")
        XCTAssertEqual(try all.data().count, 12)
        XCTAssertNil(try all.nextCursor())
        for q in ["benson", "bessent", "BESANT", "Bessen", "scott%20benson"] {
            XCTAssertEqual(try api.get("/v1/participants?q=\(q)").strings("name"), ["Scott Bessent"], "q=\(q)")
        }
        let bessent = try XCTUnwrap(try api.get("/v1/participants?q=benson").data().first)
        XCTAssertEqual(bessent["title"], .string("Secretary of the Treasury"))
        XCTAssertEqual(bessent["country"], .string("USA"))
        XCTAssertEqual(bessent["aliases"], .array([.string("Scott Benson"), .string("Besant"), .string("Bessen")]))
        let greer = try XCTUnwrap(try api.get("/v1/participants?q=jamison").data().first)
        XCTAssertEqual(greer["name"], .string("Jamieson Greer"))
        XCTAssertEqual(greer["title"], .string("United States Trade Representative"))
        let aliases = try XCTUnwrap(greer["aliases"]?.arrayValue)
        XCTAssertEqual(aliases, [.string("Jamison Greer")])
        XCTAssertFalse(aliases.contains { $0.stringValue?.contains("Lighthizer") ?? false }, "Lighthizer is not Greer")
        XCTAssertEqual(try api.get("/v1/participants?q=lighthizer").data().count, 0)
        XCTAssertEqual(try api.get("/v1/participants?country=CHN").strings("name").sorted(),
                       ["He Lifeng", "Li Chenggang", "Liao Min", "Wang Wentao", "Xi Jinping"])
        let kennedy = try XCTUnwrap(try api.get("/v1/participants?q=kennedy").data().first)
        XCTAssertTrue(kennedy["title"]?.stringValue?.contains("not a negotiator") ?? false)
    }

    func testThreeIssuesWithFinalStatusesAndBothPositions() throws {
        let n = try negotiationID()
        let issues = try api.get("/v1/issues?negotiation_id=\(n)").data()
        XCTAssertEqual(issues.count, 3)
        var byCategory: [String: JSONValue] = [:]
        for issue in issues { byCategory[issue["category"]?.stringValue ?? ""] = issue }
        XCTAssertEqual(byCategory["tariffs"]?["status"], .string("agreed"))
        XCTAssertEqual(byCategory["rare_earths"]?["status"], .string("tentative_agreement"))
        XCTAssertEqual(byCategory["fentanyl_precursors"]?["status"], .string("tentative_agreement"))
        for (category, issue) in byCategory {
            let positions = try XCTUnwrap(issue["positions"]?.objectValue, category)
            XCTAssertEqual(Set(positions.map(\.0)), ["USA", "CHN"], category)
            for (_, text) in positions { XCTAssertFalse(text.stringValue?.isEmpty ?? true, category) }
        }
        XCTAssertTrue(byCategory["tariffs"]?["positions"]?["USA"]?.stringValue?.contains("60 %") ?? false)
        XCTAssertEqual(try api.get("/v1/issues?status=tentative_agreement").data().count, 2)
        // The progress notes of the tariffs issue, oldest first, ending in its final status.
        let tariffs = try XCTUnwrap(byCategory["tariffs"]?["id"]?.intValue)
        let updates = try api.get("/v1/issues/\(tariffs)/updates?sort=occurred_on").data()
        XCTAssertEqual(updates.map { $0["occurred_on"]?.stringValue ?? "" },
                       ["2025-05-08", "2025-05-12", "2025-08-11", "2025-11-04", "2026-02-20"])
        // The Supreme Court note of 2026-02-20 carries no status: the issue stays `agreed` from 4 Nov 2025.
        XCTAssertEqual(updates.map { $0["status"] ?? .string("<missing>") },
                       [.string("in_discussion"), .string("tentative_agreement"), .null, .string("agreed"), .null])
    }

    func testGenevaAttendanceLeadFirst() throws {
        let genevaID = try XCTUnwrap(try api.get("/v1/rounds?q=geneva").ids().first)
        let attendance = try api.get("/v1/rounds/\(genevaID)/participants").data()
        XCTAssertEqual(attendance.count, 4)
        XCTAssertEqual(attendance.first?["role"], .string("lead"))
        XCTAssertEqual(attendance.map { $0["role"]?.stringValue ?? "" }, ["lead", "lead", "delegate", "delegate"])
        let names = attendance.map { $0["participant"]?["name"]?.stringValue ?? "" }
        XCTAssertEqual(Set(names.prefix(2)), ["Scott Bessent", "He Lifeng"])
        XCTAssertEqual(Set(names.suffix(2)), ["Jamieson Greer", "Li Chenggang"])
        // The other way round: Bessent attended the six rounds of 2025, not the leaders' Beijing summit.
        let bessent = try participantID(named: "Scott Bessent")
        XCTAssertEqual(try api.get("/v1/participants/\(bessent)/rounds").data().count, 6)
        let beijingID = try XCTUnwrap(try api.get("/v1/rounds?q=beijing").ids().first)
        let leaders = try api.get("/v1/rounds/\(beijingID)/participants").data()
        XCTAssertEqual(leaders.map { $0["role"]?.stringValue ?? "" }, ["lead", "lead"])
        XCTAssertEqual(Set(leaders.map { $0["participant"]?["name"]?.stringValue ?? "" }), ["Donald Trump", "Xi Jinping"])
    }

    func testEightStatements() throws {
        let statements = try api.get("/v1/statements?limit=500").data()
        XCTAssertEqual(statements.count, 8)
        let court = try XCTUnwrap(statements.first { $0["said_on"]?.stringValue == "2026-02-20" })
        XCTAssertEqual(court["speaker"], .string("Supreme Court of the United States"), "a text speaker, not a participant")
        XCTAssertEqual(court["participant_id"], .null)
        XCTAssertEqual(statements.filter { $0["said_on"]?.stringValue == "2025-05-08" }.count, 4)
        let trump = try participantID(named: "Donald Trump")
        XCTAssertEqual(try api.get("/v1/statements?participant_id=\(trump)").data().count, 3)
        let higher = try api.get("/v1/statements?q=higher").data()
        XCTAssertEqual(higher.count, 1)
        XCTAssertTrue(higher.first?["text"]?.stringValue?.contains("It's at 145%") ?? false)
        let bessent = try participantID(named: "Scott Bessent")
        let stockholm = try api.get("/v1/statements?participant_id=\(bessent)").data()
        XCTAssertEqual(stockholm.first?["said_on"], .string("2025-07-29"))
        XCTAssertEqual(try api.get("/v1/statements?from=2025-05-09&to=2025-05-09").data().count, 2)
    }

    /// Sum of `rate_percent` of the enacted all-goods measures in effect on `day`, computed from the list: within
    /// [effective_from, effective_until) and inside none of its suspension windows [from, until).
    private func total(_ by: String, _ on: String, _ day: String) throws -> Double {
        let response = try api.get("/v1/tariff-measures?imposed_by=\(by)&imposed_on=\(on)&limit=500")
        XCTAssertEqual(response.status, 200)
        XCTAssertNil(try response.nextCursor())
        var sum = 0.0
        for measure in try response.data() {
            XCTAssertEqual(measure["imposed_by"], .string(by))
            guard measure["coverage"] == .string("all_goods"), measure["status"] == .string("enacted"),
                  let from = measure["effective_from"]?.stringValue, from <= day else { continue }
            if let until = measure["effective_until"]?.stringValue, day >= until { continue }
            let windows = try XCTUnwrap(measure["suspensions"]?.arrayValue, "every measure carries its suspensions")
            let suspended = windows.contains { window in
                guard let start = window["from"]?.stringValue, start <= day else { return false }
                return window["until"]?.stringValue.map { day < $0 } ?? true
            }
            if suspended { continue }
            guard case .number(let text)? = measure["rate_percent"], let rate = Double(text) else {
                XCTFail("rate_percent is not a number: \(String(describing: measure["rate_percent"]))")
                continue
            }
            sum += rate
        }
        return sum
    }

    func testTariffTotalsFromTheMeasures() throws {
        XCTAssertEqual(try total("USA", "CHN", "2025-05-09"), 145)
        XCTAssertEqual(try total("CHN", "USA", "2025-05-09"), 125)
        XCTAssertEqual(try total("USA", "CHN", "2025-05-15"), 30)
        XCTAssertEqual(try total("CHN", "USA", "2025-05-15"), 10)
        XCTAssertEqual(try total("USA", "CHN", "2025-11-10"), 20)
        XCTAssertEqual(try total("USA", "CHN", "2025-04-09"), 104, "10 + 10 + 84 on 9 April")
        XCTAssertEqual(try total("USA", "CHN", "2026-02-23"), 20, "the last day the IEEPA tariffs were collected")
        XCTAssertEqual(try total("USA", "CHN", "2026-03-01"), 10, "Section 122 only")
        XCTAssertEqual(try total("CHN", "USA", "2026-03-01"), 10)
        // The partial and proposed measures exist but never count.
        XCTAssertEqual(try api.get("/v1/tariff-measures?coverage=partial&limit=500").data().count, 12)
        XCTAssertEqual(try api.get("/v1/tariff-measures?status=proposed").data().count, 1)
        XCTAssertEqual(try api.get("/v1/tariff-measures?limit=500").data().count, 25)
    }

    func testDemoWritesGoThroughTheChangeLogAsDemo() throws {
        XCTAssertEqual(try api.count("change_log", where: "actor IS DISTINCT FROM 'demo'"), 0, "every demo row is by the demo actor")
        XCTAssertEqual(try api.count("change_log", where: "resource = 'rounds' AND action = 'created'"), 7)
        XCTAssertEqual(try api.count("change_log", where: "resource = 'participants'"), 12)
        XCTAssertEqual(try api.count("change_log", where: "resource = 'tariff-measures'"), 25)
        XCTAssertEqual(try api.count("change_log", where: "resource = 'export-controls'"), 6)
        XCTAssertEqual(try api.count("change_log", where: "resource = 'statements'"), 8)
        XCTAssertEqual(try api.count("change_log", where: "resource = 'negotiations'"), 1)
        XCTAssertEqual(try api.count("change_log", where: "resource = 'round-participants'"), try api.count("round_participants"))
        XCTAssertEqual(try api.count("change_log", where: "resource = 'issue-updates'"), try api.count("issue_updates"))
        XCTAssertGreaterThan(try api.count("issue_updates"), 9)
    }

    func testSecondStartOnTheSameDatabaseLoadsNothingAndServes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let configuration = TestApp.configuration(directory: directory) {
            $0.loadDemoData = true
            $0.demoFile = Self.demoFile
        }
        let tables = ["negotiations", "rounds", "participants", "issues", "issue_updates", "tariff_measures", "export_controls",
                      "statements", "sources", "round_participants", "change_log"]
        func counts(_ app: TradeTrackerApp) throws -> [Int] {
            let connection = try SQLiteConnection(path: app.configuration.databasePath, flags: [.readOnly])
            defer { connection.close() }
            return try tables.map { Int(try connection.query("SELECT count(*) AS n FROM \($0)")[0].int("n") ?? -1) }
        }
        let first = try TradeTrackerApp(configuration: configuration, logger: Logger(minimumLevel: .error))
        let before = try counts(first)
        first.shutdown()
        XCTAssertEqual(before[0], 1)
        XCTAssertEqual(before[1], 7)
        XCTAssertEqual(before[6], 6, "the six export controls of the demo")

        let logPath = directory.appendingPathComponent("second.log").path
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let logger = Logger(minimumLevel: .info, fd: fd)
        let second = try TradeTrackerApp(configuration: configuration, logger: logger)
        try second.start()
        defer { second.shutdown() }
        XCTAssertEqual(try counts(second), before, "nothing loaded twice")
        logger.flush()
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        let demoLines = log.split(separator: "\n").filter { $0.contains("demo data") }
        XCTAssertEqual(demoLines.count, 1, "one log line says the demo was not loaded: \(log)")
        XCTAssertTrue(demoLines.first?.contains("not loaded") ?? false, log)
        let client = TestClient(port: second.port)
        let response = try client.request("GET", "/v1/negotiations/by-slug/us-china-2025")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(try response.json()["version"]?.intValue, 1)
    }

    func testDemoIsNotLoadedIntoADatabaseThatHoldsOtherData() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = try TradeTrackerApp(configuration: TestApp.configuration(directory: directory) {
            $0.tokens = ConventionTokens.standard
        }, logger: Logger(minimumLevel: .error))
        try plain.start()
        let created = try TestClient(port: plain.port).request("POST", "/v1/sources", json: #"{"title":"mine"}"#,
                                                               headers: ConventionAPI.auth(ConventionTokens.writer))
        XCTAssertEqual(created.status, 201)
        plain.shutdown()
        let demo = try TradeTrackerApp(configuration: TestApp.configuration(directory: directory) {
            $0.loadDemoData = true
            $0.demoFile = Self.demoFile
        }, logger: Logger(minimumLevel: .error))
        try demo.start()
        defer { demo.shutdown() }
        let response = try TestClient(port: demo.port).request("GET", "/v1/negotiations")
        XCTAssertEqual(try response.ids(), [])
        XCTAssertEqual(try TestClient(port: demo.port).request("GET", "/v1/sources").strings("title"), ["mine"])
    }
}
