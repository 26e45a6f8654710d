import Foundation
import XCTest
@testable import PostgreSQL

/// The cluster named by `TT_POSTGRES_URL` (from `scripts/pg-test-cluster.sh start`), with a
/// schema of its own per test so tests never see each other's tables; `drop()` removes it.
struct PGTestDatabase {
    static let setupHint = "TT_POSTGRES_URL is unset: run `eval \"$(scripts/pg-test-cluster.sh start)\"` to test against a throwaway PostgreSQL cluster"

    /// The database URL, or an XCTSkip that says how to get one.
    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TT_POSTGRES_URL"], !url.isEmpty else {
            throw XCTSkip(setupHint)
        }
        return url
    }

    let url: String
    let schema: String

    init() throws {
        url = try PGTestDatabase.url()
        schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = try PGConnection(url)
        defer { admin.close() }
        try admin.execute("CREATE SCHEMA \(schema)")
    }

    /// The URL with this test's schema first on the search path (libpq's `options` parameter).
    var scopedURL: String {
        url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
    }

    func connect(statementCacheCapacity: Int = 128) throws -> PGConnection {
        try PGConnection(scopedURL, statementCacheCapacity: statementCacheCapacity)
    }

    func drop() {
        guard let admin = try? PGConnection(url) else { return }
        defer { admin.close() }
        try? admin.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }
}

/// Asserts that `body` throws a `PGError` and hands it over for further checks.
func XCTAssertThrowsPGError<T>(
    _ body: @autoclosure () throws -> T,
    file: StaticString = #filePath,
    line: UInt = #line,
    _ check: (PGError) -> Void = { _ in }
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? PGError else {
            return XCTFail("expected PGError, got \(error)", file: file, line: line)
        }
        check(error)
    }
}

/// A value shared by test threads, guarded by a lock.
final class PGLocked<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched while `lock` is held.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func get() -> Value {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    @discardableResult
    func update<T>(_ change: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return change(&value)
    }
}
