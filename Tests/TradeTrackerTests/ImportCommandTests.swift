import XCTest
import Foundation
import SQLite
@testable import TradeTracker

/// `trade-tracker import` and `trade-tracker export` as a data desk runs them: exit codes, one-line messages that
/// name the line and field, what was committed, going on with `--from-line`, dry runs, standard input, and
/// refusing an export folder that was changed.
final class ImportCommandTests: XCTestCase {
    private var directory: URL!
    private var migrations: String { TestApp.packageRoot.appendingPathComponent("migrations").path }
    private var database: String { directory.appendingPathComponent("desk.sqlite").path }

    override func setUpWithError() throws {
        try TestApp.requireSQLite("the command-line import is tested on SQLite files")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { if let directory { try? FileManager.default.removeItem(at: directory) } }

    private func write(_ name: String, _ lines: [String]) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func run(_ arguments: [String], input: Data? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        try ChildProcess.run(arguments + ["--database", database, "--migrations", migrations], input: input)
    }

    private func count(_ table: String) throws -> Int64 {
        let connection = try SQLiteConnection(path: database, flags: [.readOnly])
        defer { connection.close() }
        return try connection.queryOne("SELECT count(*) AS n FROM \(table)")?.int("n") ?? -1
    }

    private func source(_ n: Int) -> String { #"{"resource":"sources","record":{"title":"Report \#(n)"}}"# }

    // MARK: parsing

    func testImportAndExportCommandLines() throws {
        let arguments = ["import", "season.ndjson", "--resource", "tariff-measures", "--batch-size=50", "--dry-run", "--from-line", "7",
                         "--synchronous", "normal"]
        guard case .importRecords(let configuration, let options) = try CommandLineOptions.parse(arguments, environment: [:]) else {
            return XCTFail("not import")
        }
        XCTAssertEqual(options.input, "season.ndjson")
        XCTAssertEqual(options.resource, "tariff-measures")
        XCTAssertEqual(options.batchSize, 50)
        XCTAssertTrue(options.dryRun)
        XCTAssertEqual(options.fromLine, 7)
        XCTAssertEqual(configuration.synchronous, .normal)
        guard case .importRecords(_, let defaults) = try CommandLineOptions.parse(["import", "-"], environment: [:]) else {
            return XCTFail("not import")
        }
        XCTAssertEqual(defaults, ImportCommand.Options(input: "-"))
        XCTAssertEqual(defaults.batchSize, 500)
        guard case .export(_, let destination) = try CommandLineOptions.parse(["export", "out/2025-12"], environment: [:]) else {
            return XCTFail("not export")
        }
        XCTAssertEqual(destination, "out/2025-12")
        for (bad, says) in [(["import"], "import needs a file"), (["export"], "export needs the folder"), (["import", "a", "b"], "unexpected argument"),
                            (["serve", "--batch-size", "5"], "unknown option '--batch-size'"), (["import", "a", "--batch-size", "0"], "--batch-size"),
                            (["import", "a", "--from-line", "x"], "--from-line"), (["import", "a", "--resource"], "needs a value")] {
            XCTAssertThrowsError(try CommandLineOptions.parse(bad, environment: [:]), "\(bad)") { error in
                XCTAssertTrue("\(error)".contains(says), "\(bad): \(error)")
            }
        }
        let help = CommandLineOptions.helpText
        for text in ["trade-tracker import FILE|DIR|-", "trade-tracker export DIR", "--batch-size N", "--dry-run", "--from-line N",
                     "--resource NAME", "--max-import-bytes N", "round-participants, issue-updates", "Exit 0 done, 1 a line refused"] {
            XCTAssertTrue(help.contains(text), "help lacks \(text)")
        }
    }

    // MARK: the import command

    func testARefusedLineStopsTheImportSayingWhereWhatAndWhatWasKeptThenItGoesOnFromThatLine() throws {
        var lines = (1...5).map(source)
        lines.insert(#"{"resource":"sources","record":{"title":"","publisher":7}}"#, at: 4)
        let file = try write("season.ndjson", lines)
        let refused = try run(["import", file, "--batch-size", "2"])
        XCTAssertEqual(refused.status, 1, refused.stderr)
        XCTAssertEqual(refused.stdout, "")
        XCTAssertEqual(refused.stderr, "trade-tracker: error: import stopped at line 5 (sources): /record/title must not be empty; "
                       + "/record/publisher must be a string; 4 rows before it were committed (through line 4: sources 4), "
                       + "none of its own transaction; fix the line and go on with --from-line 5\n")
        XCTAssertEqual(try count("sources"), 4, "the two transactions before the bad line stay; the bad line's own does not")

        lines[4] = source(99)
        _ = try write("season.ndjson", lines)
        let resumed = try run(["import", file, "--from-line", "5"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.hasPrefix("imported 2 rows in "), resumed.stdout)
        XCTAssertTrue(resumed.stdout.hasSuffix("rows/s): sources 2\n"), resumed.stdout)
        XCTAssertEqual(try count("sources"), 6)
        // A refusal inside the first transaction leaves nothing at all.
        let first = try run(["import", try write("bad.ndjson", [source(1), "not json"])])
        XCTAssertEqual(first.status, 1)
        XCTAssertEqual(first.stderr, "trade-tracker: error: import stopped at line 2: the line is not JSON: invalid literal at byte 0; nothing was written\n")
        XCTAssertEqual(try count("sources"), 6)
        // Every row of the import is in the change log, by the actor "import".
        XCTAssertEqual(try count("change_log"), 6)
        let connection = try SQLiteConnection(path: database, flags: [.readOnly])
        defer { connection.close() }
        XCTAssertEqual(try connection.queryOne("SELECT group_concat(DISTINCT actor) AS a FROM change_log")?.text("a"), "import")
    }

    func testADryRunChecksEveryLineAndWritesNothing() throws {
        let good = try write("good.ndjson", (1...3).map(source))
        let dry = try run(["import", good, "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.hasPrefix("dry run: 3 rows valid in "), dry.stdout)
        XCTAssertTrue(dry.stdout.hasSuffix("sources 3; nothing was written\n"), dry.stdout)
        XCTAssertEqual(try count("sources"), 0)
        let bad = try write("bad.ndjson", (1...3).map(source) + [#"{"resource":"sources","record":{"title":"x","id":100}}"#,
                                                                 #"{"resource":"sources","record":{"title":"y","id":100}}"#])
        let refused = try run(["import", bad, "--dry-run"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.stderr, "trade-tracker: error: import stopped at line 5 (sources): /record/id is taken: a source with id 100 already exists; "
                       + "dry run, nothing was written\n")
        let descending = try run(["import", try write("down.ndjson", [#"{"resource":"sources","record":{"id":9,"title":"x"}}"#,
                                                                       #"{"resource":"sources","record":{"id":8,"title":"y"}}"#]), "--dry-run"])
        XCTAssertEqual(descending.status, 1)
        XCTAssertTrue(descending.stderr.contains("line 2 (sources): /record/id is taken: id 8 belonged to a source that was deleted, and ids are never reused "
                                                 + "(this table has handed out ids up to 9; records with ids come in ascending order)"), descending.stderr)
        XCTAssertEqual(try count("sources"), 0)
        XCTAssertEqual(try count("change_log"), 0)
    }

    func testPlainRecordsFromStandardInput() throws {
        let input = Data(#"{"name":"He Lifeng","country":"CHN"}\#n{"name":"Scott Bessent","country":"USA","aliases":["Scott Benson"]}\#n"#.utf8)
        let done = try run(["import", "-", "--resource", "participants"], input: input)
        XCTAssertEqual(done.status, 0, done.stderr)
        XCTAssertTrue(done.stdout.contains("imported 2 rows"), done.stdout)
        XCTAssertEqual(try count("participants"), 2)
        let unknown = try run(["import", "-", "--resource", "people"], input: input)
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.hasPrefix("trade-tracker: error: --resource must be one of sources, negotiations,"), unknown.stderr)
        let missing = try run(["import", directory.appendingPathComponent("nope.ndjson").path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no file or folder"), missing.stderr)
    }

    func testAnExportFolderImportsWholeAndAChangedOneIsRefused() throws {
        _ = try run(["import", try write("seed.ndjson", (1...3).map(source) + [
            #"{"resource":"negotiations","record":{"slug":"us-china","title":"Talks","parties":["USA","CHN"],"record_complete_through":"2025-06-30"}}"#,
        ])])
        let folder = directory.appendingPathComponent("export").path
        let exported = try run(["export", folder])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        XCTAssertEqual(exported.stdout, "export \(folder): 4 rows in 20 files and MANIFEST.json, change log through seq 4\n")
        let again = try run(["export", folder])
        XCTAssertEqual(again.status, 2)
        XCTAssertTrue(again.stderr.contains("is not empty"), again.stderr)

        let copy = directory.appendingPathComponent("copy.sqlite").path
        let restored = try ChildProcess.run(["import", folder, "--database", copy, "--migrations", migrations])
        XCTAssertEqual(restored.status, 0, restored.stderr)
        XCTAssertTrue(restored.stdout.contains("sources 3, negotiations 1"), restored.stdout)
        let flags = try ChildProcess.run(["import", folder, "--resource", "sources", "--database", copy, "--migrations", migrations])
        XCTAssertEqual(flags.status, 2)
        XCTAssertTrue(flags.stderr.contains("imported whole"), flags.stderr)

        let sources = URL(fileURLWithPath: folder).appendingPathComponent("sources.ndjson")
        var bytes = try Data(contentsOf: sources)
        bytes[bytes.startIndex + 10] ^= 0x01
        try bytes.write(to: sources)
        let changed = try ChildProcess.run(["import", folder, "--database", directory.appendingPathComponent("other.sqlite").path,
                                            "--migrations", migrations])
        XCTAssertEqual(changed.status, 2)
        XCTAssertTrue(changed.stderr.contains("sources.ndjson is not the file MANIFEST.json describes"), changed.stderr)
        let plain = try ChildProcess.run(["import", directory.path, "--database", copy, "--migrations", migrations])
        XCTAssertEqual(plain.status, 2)
        XCTAssertTrue(plain.stderr.contains("without MANIFEST.json"), plain.stderr)
    }

    // MARK: the progress line

    func testTheProgressLineWaitsASecondThenAppearsAtMostOnceASecondOnATerminal() throws {
        let pipe = Pipe()
        let terminal = ImportProgress(totalBytes: 1000, output: pipe.fileHandleForWriting, isTerminal: true)
        terminal.update(rows: 10, bytes: 100)
        usleep(1_100_000)
        terminal.update(rows: 500, bytes: 500)
        terminal.update(rows: 600, bytes: 600)
        terminal.finish()
        let logs = ImportProgress(totalBytes: nil, output: pipe.fileHandleForWriting, isTerminal: false)
        usleep(1_100_000)
        logs.update(rows: 700, bytes: 0)
        logs.update(rows: 800, bytes: 0)
        logs.finish()
        try pipe.fileHandleForWriting.close()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.components(separatedBy: "\r\u{1B}[K").filter { !$0.isEmpty }
        XCTAssertEqual(lines.count, 2, text.debugDescription)
        XCTAssertTrue(lines[0].hasPrefix("import: 500 rows, "), lines[0])
        XCTAssertTrue(lines[0].contains(" rows/s, 50%, about "), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("import: 700 rows, ") && lines[1].hasSuffix(" rows/s\n"), "no estimate without a size: \(lines[1])")
        XCTAssertEqual(ImportProgress.line(rows: 45_000, bytes: 480, totalBytes: 1000, seconds: 2), "import: 45000 rows, 22500 rows/s, 48%, about 3 s left")
    }
}
