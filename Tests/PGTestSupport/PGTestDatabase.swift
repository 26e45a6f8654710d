import Foundation
import XCTest
import PostgreSQL

/// The cluster named by `TT_POSTGRES_URL` (from `scripts/pg-test-cluster.sh start`), with a
/// schema of its own per test so tests never see each other's tables; `drop()` removes it.
/// Shared by the PostgreSQL wrapper's tests and the product's PostgreSQL engine tests.
public struct PGTestDatabase: Sendable {
    public static let setupHint = "TT_POSTGRES_URL is unset: run `eval \"$(scripts/pg-test-cluster.sh start)\"` to test against a throwaway PostgreSQL cluster"

    /// The database URL, or an XCTSkip that says how to get one.
    public static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TT_POSTGRES_URL"], !url.isEmpty else {
            throw XCTSkip(setupHint)
        }
        return url
    }

    public let url: String
    public let schema: String

    public init() throws {
        url = try PGTestDatabase.url()
        schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try PGConnection(url)
        defer { admin.close() }
        try admin.execute("CREATE SCHEMA \(schema)")
    }

    /// The URL with this test's schema first on the search path (libpq's `options` parameter).
    public var scopedURL: String {
        url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
    }

    public func connect(statementCacheCapacity: Int = 128) throws -> PGConnection {
        try PGConnection(scopedURL, statementCacheCapacity: statementCacheCapacity)
    }

    public func drop() {
        guard let admin = try? PGConnection(url) else { return }
        defer { admin.close() }
        try? admin.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }
}
