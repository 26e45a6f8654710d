import Foundation
import XCTest
@testable import PostgreSQL

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
