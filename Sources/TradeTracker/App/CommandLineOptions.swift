import HTTPServer
import SQLite

/// A command line that cannot be used; printed as one line, exit code 2.
public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What the command line asks for.
public enum Command: Sendable {
    case serve(AppConfiguration)
    case migrate(AppConfiguration)
    /// Copy the database to the path (online backup).
    case backup(AppConfiguration, destination: String)
    /// integrity_check and foreign_key_check.
    case check(AppConfiguration)
    /// Load NDJSON records (a file, an export folder or standard input).
    case importRecords(AppConfiguration, ImportCommand.Options)
    /// Write every resource as NDJSON and CSV with a manifest into the folder.
    case export(AppConfiguration, destination: String)
    case help
}

/// Parses `trade-tracker <command> [--flag value …]`; every flag can also come from `TRADE_TRACKER_<FLAG>`.
public enum CommandLineOptions {
    struct Option: Sendable {
        let flag: String
        let value: String   // placeholder shown in help; empty for switches
        let help: String
        /// For a flag that may be given several times (from the environment as a comma-separated list): empties
        /// the list before the command line's first one, so flags replace the environment's values.
        let reset: (@Sendable (inout AppConfiguration) -> Void)?
        let apply: @Sendable (inout AppConfiguration, String) throws -> Void

        init(flag: String, value: String, help: String, reset: (@Sendable (inout AppConfiguration) -> Void)? = nil,
             apply: @escaping @Sendable (inout AppConfiguration, String) throws -> Void) {
            self.flag = flag
            self.value = value
            self.help = help
            self.reset = reset
            self.apply = apply
        }

        var repeatable: Bool { reset != nil }

        var environmentName: String {
            "TRADE_TRACKER_" + flag.uppercased().replacingOccurrences(of: "-", with: "_")
        }
    }

    static let options: [Option] = [
        Option(flag: "host", value: "ADDRESS", help: "address to listen on (default 127.0.0.1)") { $0.server.host = $1 },
        Option(flag: "port", value: "PORT", help: "port to listen on, 0 picks a free one (default 8080)") {
            $0.server.port = try integer($1, "port", 0...65535)
        },
        Option(flag: "database", value: "PATH|URL",
               help: "SQLite database file, its folder is created (default ./data/trade-tracker.sqlite), or a postgres://USER@HOST:PORT/DB URL") {
            $0.databasePath = try nonEmpty($1, "database")
        },
        Option(flag: "migrations", value: "DIR", help: "folder of NNNN_name.sql migrations (default ./migrations)") {
            $0.migrationsDirectory = try nonEmpty($1, "migrations")
        },
        Option(flag: "openapi", value: "PATH", help: "the OpenAPI document served at /openapi.yaml (default ./openapi.yaml)") {
            $0.openAPIPath = try nonEmpty($1, "openapi")
        },
        Option(flag: "cors-origin", value: "ORIGIN",
               help: "a browser origin allowed to read the API (scheme://host[:port], or * for reads from anywhere); repeatable",
               reset: { $0.corsOrigins = [] }) {
            $0.corsOrigins.append(try origin($1))
        },
        Option(flag: "public-dir", value: "DIR", help: "the dashboard page's files, served at / (default ./public)") {
            $0.publicDirectory = try nonEmpty($1, "public-dir")
        },
        Option(flag: "demo", value: "", help: "load the US–China 2025 demo data into an empty database") { c, v in
            c.loadDemoData = try boolean(v, "demo")
        },
        Option(flag: "demo-file", value: "PATH", help: "the demo data file (default ./demo/us-china-2025.json)") {
            $0.demoFile = try nonEmpty($1, "demo-file")
        },
        Option(flag: "tokens-file", value: "PATH", help: "bearer tokens, one 'name scope token' per line; must be chmod 600") {
            $0.tokensFile = try nonEmpty($1, "tokens-file")
        },
        Option(flag: "require-auth-for-reads", value: "", help: "reads need a token too (default: reads are open)") { c, v in
            c.requireAuthForReads = try boolean(v, "require-auth-for-reads")
        },
        Option(flag: "require-if-match", value: "", help: "PATCH and DELETE without If-Match get 428") { c, v in
            c.requireIfMatch = try boolean(v, "require-if-match")
        },
        Option(flag: "workers", value: "N", help: "handler threads (default: number of cores, at least 2)") {
            $0.server.workerCount = try integer($1, "workers", 1...256)
        },
        Option(flag: "max-connections", value: "N", help: "open connections before new ones get 503 (default 1024)") {
            $0.server.maxConnections = try integer($1, "max-connections", 1...1_000_000)
        },
        Option(flag: "max-body-bytes", value: "N", help: "largest request body, 413 past it (default 1048576)") {
            $0.server.limits.maxBodyBytes = try integer($1, "max-body-bytes", 0...1 << 30)
        },
        Option(flag: "max-import-bytes", value: "N", help: "largest POST /v1/import body (NDJSON), 413 past it (default 16777216)") {
            $0.maxImportBytes = try integer($1, "max-import-bytes", 0...1 << 30)
        },
        Option(flag: "max-request-line-bytes", value: "N", help: "longest request line, 414 past it (default 8192)") {
            $0.server.limits.maxRequestLineBytes = try integer($1, "max-request-line-bytes", 64...1 << 20)
        },
        Option(flag: "max-header-bytes", value: "N", help: "largest header block, 431 past it (default 16384)") {
            $0.server.limits.maxHeaderBytes = try integer($1, "max-header-bytes", 256...1 << 20)
        },
        Option(flag: "max-header-count", value: "N", help: "most header fields, 431 past it (default 100)") {
            $0.server.limits.maxHeaderCount = try integer($1, "max-header-count", 1...10_000)
        },
        Option(flag: "header-timeout", value: "SECONDS", help: "time to receive a request head (default 10)") {
            $0.server.headerTimeout = try seconds($1, "header-timeout")
        },
        Option(flag: "body-timeout", value: "SECONDS", help: "longest pause inside a request body (default 30)") {
            $0.server.bodyTimeout = try seconds($1, "body-timeout")
        },
        Option(flag: "idle-timeout", value: "SECONDS", help: "keep-alive wait for the next request (default 60)") {
            $0.server.idleTimeout = try seconds($1, "idle-timeout")
        },
        Option(flag: "write-timeout", value: "SECONDS", help: "time a client may leave a response unread (default 30)") {
            $0.server.writeTimeout = try seconds($1, "write-timeout")
        },
        Option(flag: "shutdown-grace", value: "SECONDS", help: "how long shutdown waits for in-flight requests (default 10)") {
            $0.server.shutdownGracePeriod = try seconds($1, "shutdown-grace")
        },
        Option(flag: "writer-batch", value: "N", help: "most writes committed in one transaction (default 64)") {
            $0.writerBatchLimit = try integer($1, "writer-batch", 1...10_000)
        },
        Option(flag: "writer-queue", value: "N", help: "most writes waiting for the writer, 503 past it (default 1024)") {
            $0.writerQueueLimit = try integer($1, "writer-queue", 1...1_000_000)
        },
        Option(flag: "db-readers", value: "N", help: "read-only database connections (default 4)") {
            $0.databaseReaders = try integer($1, "db-readers", 1...64)
        },
        Option(flag: "synchronous", value: "full|normal", help: "SQLite durability: full survives power loss (default full)") {
            guard let mode = Synchronous(rawValue: $1.lowercased()), mode == .full || mode == .normal else {
                throw UsageError("--synchronous must be full or normal, not '\($1)'")
            }
            $0.synchronous = mode
        },
        Option(flag: "access-log", value: "on|off", help: "one log line per request (default on)") { c, v in
            c.accessLog = try boolean(v, "access-log")
        },
        Option(flag: "change-log-retention", value: "DAYS", help: "delete change-log rows older than this (default: keep forever)") {
            $0.changeLogRetentionDays = try integer($1, "change-log-retention", 1...36_500)
        },
        Option(flag: "backup-dir", value: "DIR", help: "where POST /v1/admin/backup writes (default: backups/ beside the database)") {
            $0.backupDirectory = try nonEmpty($1, "backup-dir")
        },
        Option(flag: "log-format", value: "text|json", help: "access log lines as text or one JSON object each (default text)") {
            guard ["text", "json"].contains($1) else { throw UsageError("--log-format must be text or json, not '\($1)'") }
            $0.logFormat = $1
        },
        Option(flag: "rate-limit", value: "N", help: "requests a minute per client, 0 for none (default 1200)") {
            $0.rateLimit = try integer($1, "rate-limit", 0...10_000_000)
        },
        Option(flag: "rate-burst", value: "N", help: "requests a client may make at once before the rate applies (default 200)") {
            $0.rateBurst = try integer($1, "rate-burst", 1...10_000_000)
        },
        Option(flag: "trust-proxy", value: "", help: "the client address is X-Forwarded-For's last entry (behind a proxy)") { c, v in
            c.trustProxy = try boolean(v, "trust-proxy")
        },
        Option(flag: "metrics-token", value: "TOKEN", help: "GET /metrics needs this bearer token (prefer the environment variable)") {
            guard $1.utf8.count >= 16 else { throw UsageError("--metrics-token must be at least 16 characters") }
            $0.metricsToken = $1
        },
        Option(flag: "log-level", value: "LEVEL", help: "debug, info, warning or error (default info)") {
            let levels: [String: Logger.Level] = ["debug": .debug, "info": .info, "warning": .warning, "error": .error]
            guard let level = levels[$1.lowercased()] else { throw UsageError("--log-level must be debug, info, warning or error") }
            $0.logLevel = level
        },
    ]

    /// The flags of `import` alone (command line only).
    struct ImportFlag: Sendable {
        let flag: String
        let value: String
        let help: String
        let apply: @Sendable (inout ImportCommand.Options, String) throws -> Void
    }

    static let importFlags: [ImportFlag] = [
        ImportFlag(flag: "resource", value: "NAME", help: "every line is a plain record of NAME (default: {\"resource\", \"record\"} lines)") {
            $0.resource = try nonEmpty($1, "resource")
        },
        ImportFlag(flag: "batch-size", value: "N", help: "rows a transaction (default 500); a refused line undoes its own transaction only") {
            $0.batchSize = try integer($1, "batch-size", 1...1_000_000)
        },
        ImportFlag(flag: "dry-run", value: "", help: "check every line in one transaction that is rolled back; write nothing") {
            $0.dryRun = try boolean($1, "dry-run")
        },
        ImportFlag(flag: "from-line", value: "N", help: "skip the lines before line N (to go on after a refused line)") {
            $0.fromLine = try integer($1, "from-line", 1...Int.max)
        },
    ]

    /// The commands that take one path.
    private static let pathArguments = ["backup": "the path of the copy: trade-tracker backup PATH",
                                        "import": "a file, an export folder or - (standard input): trade-tracker import FILE",
                                        "export": "the folder to write: trade-tracker export DIR"]

    /// Parses `arguments` (without the program name) over the environment `environment`.
    public static func parse(_ arguments: [String], environment: [String: String]) throws -> Command {
        guard let verb = arguments.first else { return .help }
        if ["-h", "--help", "help"].contains(verb) { return .help }
        guard ["serve", "migrate", "backup", "check", "import", "export"].contains(verb) else {
            throw UsageError("unknown command '\(verb)'; use serve, migrate, backup, check, import, export or --help")
        }
        var importOptions = ImportCommand.Options(input: "")
        var configuration = AppConfiguration()
        for option in options {
            guard let value = environment[option.environmentName] else { continue }
            if option.repeatable {
                for item in value.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
                    try option.apply(&configuration, item)
                }
            } else {
                try option.apply(&configuration, value)
            }
        }
        // Tokens come from the environment only: on a command line every user of `ps` would see them.
        configuration.tokens = environment["TRADE_TRACKER_TOKENS"]
        // Flags given on the command line replace what the environment said for a repeatable option.
        var replacedFromEnvironment = Set<String>()
        var rest = arguments.dropFirst()[...]
        var positional: [String] = []
        while let argument = rest.popFirst() {
            if argument == "-h" || argument == "--help" { return .help }
            guard argument.hasPrefix("--") else {
                guard pathArguments[verb] != nil && positional.isEmpty else { throw UsageError("unexpected argument '\(argument)'") }
                positional.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var value: String? = nil
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if verb == "import", let flag = importFlags.first(where: { $0.flag == name }) {
                if flag.value.isEmpty {
                    try flag.apply(&importOptions, value ?? "true")
                } else {
                    guard let given = value ?? rest.popFirst() else { throw UsageError("--\(name) needs a value (\(flag.value))") }
                    try flag.apply(&importOptions, given)
                }
                continue
            }
            guard let option = options.first(where: { $0.flag == name }) else {
                throw UsageError("unknown option '--\(name)'; see --help")
            }
            if let reset = option.reset, replacedFromEnvironment.insert(option.flag).inserted { reset(&configuration) }
            if option.value.isEmpty {
                try option.apply(&configuration, value ?? "true")
            } else {
                guard let given = value ?? rest.popFirst() else { throw UsageError("--\(name) needs a value (\(option.value))") }
                try option.apply(&configuration, given)
            }
        }
        if let needed = pathArguments[verb], positional.isEmpty { throw UsageError("\(verb) needs \(needed)") }
        switch verb {
        case "serve": return .serve(configuration)
        case "backup": return .backup(configuration, destination: positional[0])
        case "check": return .check(configuration)
        case "import":
            importOptions.input = positional[0]
            return .importRecords(configuration, importOptions)
        case "export": return .export(configuration, destination: positional[0])
        default: return .migrate(configuration)
        }
    }

    public static var helpText: String {
        var lines = [
            "usage: trade-tracker serve [options]     start the HTTP API",
            "       trade-tracker migrate [options]   apply database migrations and exit",
            "       trade-tracker backup PATH         copy the database (consistent, while a server runs) to PATH",
            "       trade-tracker check               integrity and foreign-key check of the database; exit 0 when clean",
            "       trade-tracker import FILE|DIR|-   load NDJSON records through the API's validation (import options below)",
            "       trade-tracker export DIR          every resource as NDJSON and CSV plus MANIFEST.json, from one snapshot",
            "                                         (while a server runs); written beside DIR, then renamed to it",
            "",
            "import: each line is {\"resource\": NAME, \"record\": {...}} (or a plain record with --resource); NAME is one of",
            "  " + TransferCatalogue.names.prefix(6).joined(separator: ", ") + ",",
            "  " + TransferCatalogue.names.dropFirst(6).joined(separator: ", ") + ".",
            "  Records go through the same checks as the API's POSTs, in order (a record after what it refers to;",
            "  responds_to may point ahead). id, created_at, updated_at, version and read-only fields are kept when given,",
            "  so an export imports back exactly; DIR is a folder trade-tracker export wrote (its files checked first).",
            "  A refused line stops the import: its transaction is rolled back, the ones before it stay committed, and",
            "  the message names the line, the field, the rows committed and the --from-line to go on with.",
            "  Progress goes to stderr once an import runs over a second (once a second on a terminal, every 10 s",
            "  otherwise), the summary to stdout. Exit 0 done, 1 a line refused, 2 unusable input or database.",
            "import options (command line only):",
        ]
        for flag in importFlags {
            let text = "--\(flag.flag)" + (flag.value.isEmpty ? "" : " \(flag.value)")
            lines.append("  \(text.padding(toLength: 34, withPad: " ", startingAt: 0))\(flag.help)")
        }
        lines += [
            "",
            "options (each also read from the environment variable shown):",
        ]
        for option in options {
            let flag = "--\(option.flag)" + (option.value.isEmpty ? "" : " \(option.value)")
            let padded = flag.padding(toLength: 34, withPad: " ", startingAt: 0)
            lines.append("  \(padded)\(option.help) [\(option.environmentName)]")
        }
        lines.append("")
        lines.append("  TRADE_TRACKER_TOKENS              bearer tokens as 'name:scope:token' entries separated by commas")
        lines.append("                                    (scope: read, write or admin); only from the environment")
        return lines.joined(separator: "\n")
    }

    /// `scheme://host[:port]` exactly as browsers send `Origin` (no path, no trailing slash), or `*`.
    private static func origin(_ text: String) throws(UsageError) -> String {
        if text == "*" { return text }
        let lower = text.lowercased()
        guard lower == text, lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw UsageError("--cors-origin must be scheme://host[:port] in lower case (as browsers send Origin) or *, not '\(text)'")
        }
        let rest = text.drop(while: { $0 != "/" }).dropFirst(2)
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("?"), !rest.contains("#"), !rest.contains("@"),
              rest.allSatisfy({ $0.isLetter || $0.isNumber || "-.:[]".contains($0) }) else {
            throw UsageError("--cors-origin must be scheme://host[:port] with no path, not '\(text)'")
        }
        return text
    }

    private static func integer(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("--\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
        }
        return value
    }

    private static func seconds(_ text: String, _ name: String) throws(UsageError) -> Duration {
        guard let value = Double(text), value > 0, value <= 86_400 else {
            throw UsageError("--\(name) must be a number of seconds above 0, not '\(text)'")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    private static func nonEmpty(_ text: String, _ name: String) throws(UsageError) -> String {
        guard !text.isEmpty else { throw UsageError("--\(name) must not be empty") }
        return text
    }

    private static func boolean(_ text: String, _ name: String) throws(UsageError) -> Bool {
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw UsageError("--\(name) must be on or off, not '\(text)'")
        }
    }
}
