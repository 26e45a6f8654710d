/// One numbered schema change, loaded from `NNNN_name.sql`.
public struct Migration: Sendable, Hashable {
    public let version: Int
    /// The part of the file name after the number, e.g. "initial" for `0001_initial.sql`.
    public let name: String
    public let sql: String
    /// Lowercase hex SHA-256 of the SQL's UTF-8 bytes; recorded when applied, compared on every start.
    public let checksum: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = SHA256.hex(sql.utf8)
    }

    /// `0001_initial`: the file name without extension, as people know the migration.
    public var identifier: String { Migration.identifier(version: version, name: name) }

    /// The identifier of migration `version` named `name` (as `schema_migrations` records them).
    public static func identifier(version: Int, name: String) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits + "_" + name
    }
}
