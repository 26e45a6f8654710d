import PostgreSQL

/// Where the data lives, decided by `--database` (or `TRADE_TRACKER_DATABASE`): a `postgres://` or
/// `postgresql://` URL is a PostgreSQL database, anything else the path of an SQLite file.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    public init(_ setting: String) {
        let lowered = setting.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            self = .postgres(url: setting)
        } else {
            self = .sqlite(path: setting)
        }
    }

    var engine: StorageEngine {
        switch self {
        case .sqlite: return .sqlite
        case .postgres: return .postgres
        }
    }

    /// The file's path, or the URL with its password masked: safe to log.
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let url): return PGConninfo.masked(url)
        }
    }

    /// The refusal of a command that works on an SQLite file only, with what to use instead; nil on SQLite.
    func sqliteOnly(_ command: String, instead: String) -> StartupError? {
        guard case .postgres = self else { return nil }
        return StartupError("\(command) works on an SQLite database file; on PostgreSQL use \(instead)")
    }
}
