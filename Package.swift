// swift-tools-version:6.0
import PackageDescription

/// Release builds skip the run-time exclusivity checks (the debug build and the tests keep them): measured at about
/// 6 % of the instructions of a request, spent proving accesses the compiler cannot see are not overlapping.
let releaseSpeed: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

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
        .target(name: "JSON", swiftSettings: releaseSpeed),
        .systemLibrary(
            name: "CPostgreSQL",
            path: "Sources/CPostgreSQL",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "PostgreSQL", dependencies: ["CPostgreSQL"]),
        .target(name: "HTTPServer", swiftSettings: releaseSpeed),
        .target(name: "TradeTracker", dependencies: ["SQLite", "HTTPServer", "JSON"], swiftSettings: releaseSpeed),
        .executableTarget(name: "trade-tracker", dependencies: ["TradeTracker"]),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "PostgreSQLTests", dependencies: ["PostgreSQL"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "JSON"]),
        .testTarget(name: "TradeTrackerTests", dependencies: ["TradeTracker", "HTTPServer", "SQLite", "JSON"]),
    ],
    swiftLanguageModes: [.v6]
)
