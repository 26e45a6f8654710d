/// Why migrations could not be loaded or applied; each `description` is one line a person can act on.
public enum MigrationError: Error, Sendable, CustomStringConvertible {
    case badFileName(String)
    case duplicateVersion(Int)
    case checksumMismatch(version: Int, name: String)
    case unknownAppliedMigration(version: Int, name: String)
    case directoryUnreadable(String)
    /// A migration file exists but could not be read as UTF-8 text.
    case fileUnreadable(String)
    case failed(version: Int, name: String, underlying: SQLiteError)

    public var description: String {
        switch self {
        case .badFileName(let file):
            return "migration file \(file) is not named NNNN_name.sql (a version number, an underscore, a name)"
        case .duplicateVersion(let version):
            return "two migration files share version \(version); give each file its own number"
        case .checksumMismatch(let version, let name):
            return "migration \(Migration.identifier(version: version, name: name)) was changed after it was applied "
                + "(checksum differs); restore the file or use a new migration"
        case .unknownAppliedMigration(let version, let name):
            return "the database has migration \(Migration.identifier(version: version, name: name)) applied but no such file "
                + "exists; this binary is older than the database or the file was deleted"
        case .directoryUnreadable(let path):
            return "cannot read the migrations directory \(path)"
        case .fileUnreadable(let path):
            return "cannot read migration file \(path) as UTF-8 text"
        case .failed(let version, let name, let underlying):
            return "migration \(Migration.identifier(version: version, name: name)) failed and was rolled back: "
                + "\(underlying.message)"
        }
    }
}
