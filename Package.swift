// swift-tools-version:6.0
import Foundation
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
            // No pkgConfig: its flags would link libpq, which LibPQ.swift opens at run time instead.
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "PostgreSQL", dependencies: ["CPostgreSQL"]),
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        .target(name: "HTTPServer", dependencies: ["CEpoll"], swiftSettings: releaseSpeed),
        .target(name: "TradeTracker", dependencies: ["SQLite", "PostgreSQL", "HTTPServer", "JSON"], swiftSettings: releaseSpeed),
        .executableTarget(name: "trade-tracker", dependencies: ["TradeTracker"]),
        .testTarget(name: "SQLiteTests", dependencies: ["SQLite"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        // The throwaway-schema helper of the tests that need a PostgreSQL server (TT_POSTGRES_URL), in both test targets.
        .target(name: "PGTestSupport", dependencies: ["PostgreSQL"], path: "Tests/PGTestSupport"),
        .testTarget(name: "PostgreSQLTests", dependencies: ["PostgreSQL", "PGTestSupport"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "JSON"]),
        .testTarget(name: "TradeTrackerTests", dependencies: ["TradeTracker", "HTTPServer", "SQLite", "PostgreSQL", "PGTestSupport", "JSON"]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (Fuzz/, run by scripts/fuzz.sh): declared only when TRADE_TRACKER_FUZZ is set, because they link
// libFuzzer's runtime and AddressSanitizer, which a plain `swift build` or `swift test` must never see.
if ProcessInfo.processInfo.environment["TRADE_TRACKER_FUZZ"] != nil {
    let sanitizers = ["-sanitize=fuzzer,address"]
    // gold stops with an internal error on ASan's debug info; the toolchain's lld links it.
    let linkFlags = sanitizers + ["-use-ld=lld"]
    // The code under test needs the coverage instrumentation too, or libFuzzer fuzzes blind.
    for target in package.targets where ["HTTPServer", "JSON"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(sanitizers)]
    }
    func fuzzTarget(_ name: String, testing module: String) -> Target {
        .executableTarget(name: name, dependencies: [.target(name: module), "FuzzSupport"], path: "Fuzz/Sources/\(name)",
                          swiftSettings: [.unsafeFlags(sanitizers)], linkerSettings: [.unsafeFlags(linkFlags)])
    }
    package.targets += [
        .target(name: "FuzzSupport", path: "Fuzz/Sources/FuzzSupport", swiftSettings: [.unsafeFlags(sanitizers)]),
        fuzzTarget("FuzzRequestParser", testing: "HTTPServer"),
        fuzzTarget("FuzzJSONParser", testing: "JSON"),
    ]
}
