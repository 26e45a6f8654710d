// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "trade-tracker",
    products: [
        .executable(name: "trade-tracker", targets: ["trade-tracker"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        .target(name: "JSON"),
        .systemLibrary(
            name: "CPostgreSQL",
            path: "Sources/CPostgreSQL",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "PostgreSQL", dependencies: ["CPostgreSQL"]),
        .target(name: "HTTPServer"),
        .target(name: "TradeTracker", dependencies: ["SQLite", "HTTPServer", "JSON"]),
        .executableTarget(name: "trade-tracker", dependencies: ["TradeTracker"]),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "PostgreSQLTests", dependencies: ["PostgreSQL"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "JSON"]),
        .testTarget(name: "TradeTrackerTests", dependencies: ["TradeTracker", "HTTPServer", "SQLite", "JSON"]),
    ],
    swiftLanguageModes: [.v6]
)
