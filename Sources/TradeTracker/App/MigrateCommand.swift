import SQLite

/// `trade-tracker migrate`: applies pending migrations and reports them.
public enum Migrate {
    public static func run(_ configuration: AppConfiguration) throws -> [String] {
        let database = try Database(location: configuration.database, migrationsDirectory: configuration.migrationsDirectory,
                                    readers: 1, synchronous: configuration.synchronous)
        defer { database.close() }
        return database.appliedAtOpen
    }
}
