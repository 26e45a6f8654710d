import XCTest
import Foundation
@testable import TradeTracker

final class CommandLineTests: XCTestCase {
    // MARK: parsing

    func testFlagsOverrideEnvironmentAndEnvironmentOverridesDefaults() throws {
        let env = ["TRADE_TRACKER_PORT": "9000", "TRADE_TRACKER_HOST": "0.0.0.0", "TRADE_TRACKER_HEADER_TIMEOUT": "2.5"]
        guard case .serve(let fromEnv) = try CommandLineOptions.parse(["serve"], environment: env) else { return XCTFail("not serve") }
        XCTAssertEqual(fromEnv.server.port, 9000)
        XCTAssertEqual(fromEnv.server.host, "0.0.0.0")
        XCTAssertEqual(fromEnv.server.headerTimeout, .milliseconds(2500))
        guard case .serve(let fromFlag) = try CommandLineOptions.parse(["serve", "--port", "9001", "--max-body-bytes=2048"], environment: env)
        else { return XCTFail("not serve") }
        XCTAssertEqual(fromFlag.server.port, 9001)
        XCTAssertEqual(fromFlag.server.limits.maxBodyBytes, 2048)
    }

    func testDefaultsMatchTheContract() throws {
        guard case .serve(let c) = try CommandLineOptions.parse(["serve"], environment: [:]) else { return XCTFail("not serve") }
        XCTAssertEqual(c.server.host, "127.0.0.1")
        XCTAssertEqual(c.server.port, 8080)
        XCTAssertEqual(c.databasePath, "./data/trade-tracker.sqlite")
        XCTAssertEqual(c.migrationsDirectory, "./migrations")
        XCTAssertEqual(c.server.limits.maxRequestLineBytes, 8192)
        XCTAssertEqual(c.server.limits.maxHeaderBytes, 16384)
        XCTAssertEqual(c.server.limits.maxHeaderCount, 100)
        XCTAssertEqual(c.server.limits.maxBodyBytes, 1 << 20)
        XCTAssertEqual(c.server.headerTimeout, .seconds(10))
        XCTAssertEqual(c.server.bodyTimeout, .seconds(30))
        XCTAssertEqual(c.server.idleTimeout, .seconds(60))
        XCTAssertEqual(c.server.maxConnections, 1024)
        XCTAssertEqual(c.synchronous, .full)
    }

    func testBadFlagsAreUsageErrors() {
        for arguments in [["serve", "--port", "70000"], ["serve", "--nope"], ["serve", "--port"], ["serve", "--synchronous", "off"],
                          ["frobnicate"], ["serve", "--header-timeout", "-1"], ["serve", "stray"]] {
            XCTAssertThrowsError(try CommandLineOptions.parse(arguments, environment: [:]), "\(arguments)") { error in
                XCTAssertTrue(error is UsageError, "\(arguments): \(error)")
            }
        }
        XCTAssertThrowsError(try CommandLineOptions.parse(["serve"], environment: ["TRADE_TRACKER_PORT": "x"]))
    }

    func testHelpListsEveryFlagWithItsEnvironmentVariable() throws {
        guard case .help = try CommandLineOptions.parse(["--help"], environment: [:]) else { return XCTFail("not help") }
        let help = CommandLineOptions.helpText
        for option in CommandLineOptions.options {
            XCTAssertTrue(help.contains("--\(option.flag)"), option.flag)
            XCTAssertTrue(help.contains(option.environmentName), option.environmentName)
        }
    }

    // MARK: the real executable

    private var binary: URL { TestApp.executable }

    private func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tt-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testBadFlagExitsWithCode2AndOneLine() throws {
        let result = try ChildProcess.run(["serve", "--port", "banana"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.hasPrefix("trade-tracker: error: --port must be a whole number"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1)
    }

    func testUnusableDatabasePathExitsWithCode2() throws {
        let dir = try temporaryDirectory()
        let blocker = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let result = try ChildProcess.run(["serve", "--port", "0", "--database", blocker.path + "/sub/db.sqlite",
                              "--migrations", TestApp.packageRoot.appendingPathComponent("migrations").path,
                              "--openapi", TestApp.packageRoot.appendingPathComponent("openapi.yaml").path])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("cannot create the database folder"), result.stderr)
    }

    func testMigrateAppliesOnceThenReportsUpToDate() throws {
        let dir = try temporaryDirectory()
        let arguments = ["migrate", "--database", dir.appendingPathComponent("db.sqlite").path,
                         "--migrations", TestApp.packageRoot.appendingPathComponent("migrations").path]
        let first = try ChildProcess.run(arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("applied: 0001_initial"), first.stdout)
        let second = try ChildProcess.run(arguments)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("database is up to date"), second.stdout)
    }

    func testChangedMigrationRefusesToStart() throws {
        let dir = try temporaryDirectory()
        let migrations = dir.appendingPathComponent("migrations")
        try FileManager.default.copyItem(at: TestApp.packageRoot.appendingPathComponent("migrations"), to: migrations)
        let database = dir.appendingPathComponent("db.sqlite").path
        XCTAssertEqual(try ChildProcess.run(["migrate", "--database", database, "--migrations", migrations.path]).status, 0)
        let file = migrations.appendingPathComponent("0001_initial.sql")
        var sql = try String(contentsOf: file, encoding: .utf8)
        sql += "\n-- edited after it was applied\n"
        try sql.write(to: file, atomically: true, encoding: .utf8)
        let result = try ChildProcess.run(["serve", "--port", "0", "--database", database, "--migrations", migrations.path,
                              "--openapi", TestApp.packageRoot.appendingPathComponent("openapi.yaml").path])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.contains("0001_initial was changed after it was applied"), result.stderr)
    }

    func testServeAnnouncesItselfAndStopsCleanlyOnSIGTERM() throws {
        let dir = try temporaryDirectory()
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--port", "0", "--database", dir.appendingPathComponent("db.sqlite").path,
                             "--migrations", TestApp.packageRoot.appendingPathComponent("migrations").path,
                             "--openapi", TestApp.packageRoot.appendingPathComponent("openapi.yaml").path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // The start-up line names the address (with the real port) and the database.
        let output = ChildProcess.readUntilListening(err)
        let pattern = try NSRegularExpression(pattern: "listening on http://127\\.0\\.0\\.1:(\\d+) with database .*db\\.sqlite")
        let match = try XCTUnwrap(pattern.firstMatch(in: output, range: NSRange(output.startIndex..., in: output)), output)
        let port = try XCTUnwrap(Int((output as NSString).substring(with: match.range(at: 1))))
        XCTAssertEqual(try TestClient(port: port).request("GET", "/healthz").status, 200)
        // On SQLite, libpq (and the TLS and Kerberos libraries it pulls in) is never mapped: it is opened only for a
        // postgres:// database.
        // Read to the end: /proc files say they are empty, so a read sized by the file's length gets nothing.
        let mapsFile = try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/\(process.processIdentifier)/maps"))
        let maps = String(decoding: mapsFile.readDataToEndOfFile(), as: UTF8.self)
        try mapsFile.close()
        XCTAssertFalse(maps.contains("libpq"), "a server on SQLite mapped libpq")
        XCTAssertTrue(maps.contains("libsqlite3"))
        process.terminate()  // SIGTERM
        let stopDeadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < stopDeadline { usleep(20_000) }
        XCTAssertFalse(process.isRunning)
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0)
    }
}
