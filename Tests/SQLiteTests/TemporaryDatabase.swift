import Foundation
import XCTest
@testable import SQLite

/// A unique database path in the temp directory; `remove()` deletes it with its WAL and SHM files.
struct TemporaryDatabase {
    let directory: URL
    let path: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-tests-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("test.sqlite").path
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Asserts that `body` throws an `SQLiteError` and hands it over for further checks.
func XCTAssertThrowsSQLiteError<T>(
    _ body: @autoclosure () throws -> T,
    file: StaticString = #filePath,
    line: UInt = #line,
    _ check: (SQLiteError) -> Void = { _ in }
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? SQLiteError else {
            return XCTFail("expected SQLiteError, got \(error)", file: file, line: line)
        }
        check(error)
    }
}
