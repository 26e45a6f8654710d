import Foundation
import TradeTracker

/// Exit codes: 0 clean stop, 1 a check or an import refused the data, 2 unusable command line, database, input or address.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("trade-tracker: error: \(message)\n".utf8))
    exit(2)
}

let command: Command
do {
    command = try CommandLineOptions.parse(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
} catch {
    fail("\(error)")
}

switch command {
case .help:
    print(CommandLineOptions.helpText)
case .migrate(let configuration):
    do {
        let applied = try Migrate.run(configuration)
        print(applied.isEmpty ? "database is up to date" : "applied: " + applied.joined(separator: ", "))
    } catch {
        fail("\(error)")
    }
case .backup(let configuration, let destination):
    do {
        let backup = try DatabaseMaintenance.backup(database: configuration.databasePath, to: destination)
        print("backup \(backup.path): \(backup.bytes) bytes, sha256 \(backup.sha256)")
    } catch {
        fail("\(error)")
    }
case .check(let configuration):
    do {
        let problems = try DatabaseMaintenance.check(database: configuration.databasePath)
        if problems.isEmpty {
            print("\(configuration.databasePath): integrity ok, foreign keys ok")
        } else {
            for problem in problems { print(problem) }
            FileHandle.standardError.write(Data("trade-tracker: \(problems.count) problem(s) in \(configuration.databasePath)\n".utf8))
            exit(1)
        }
    } catch {
        fail("\(error)")
    }
case .importRecords(let configuration, let options):
    exit(ImportCommand.run(configuration, options))
case .export(let configuration, let destination):
    do {
        let export = try FullExport.run(database: configuration.databasePath, migrationsDirectory: configuration.migrationsDirectory,
                                        to: destination)
        print("export \(export.directory): \(export.rows) rows in \(export.files.count) files and \(FullExport.manifestName), "
              + "change log through seq \(export.lastChangeSeq)")
    } catch {
        fail("\(error)")
    }
case .serve(let configuration):
    let app: TradeTrackerApp
    do {
        app = try TradeTrackerApp(configuration: configuration)
        try app.start()
    } catch {
        fail("\(error)")
    }
    ServeLoop.runUntilSignalled(app)
}
