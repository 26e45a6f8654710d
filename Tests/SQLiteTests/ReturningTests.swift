import XCTest
@testable import SQLite

/// `INSERT ... RETURNING` read with `scalar` or `queryOne` inside a transaction, into a table whose trigger writes
/// its FTS5 index (as every searchable table of the product does).
final class ReturningTests: XCTestCase {
    func testAWriteReadForItsFirstRowKeepsTheTransactionOpen() throws {
        let db = try SQLiteConnection(path: ":memory:")
        defer { db.close() }
        try db.execute("""
            CREATE TABLE note (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL) STRICT;
            CREATE VIRTUAL TABLE note_fts USING fts5 (text, content = 'note', content_rowid = 'id');
            CREATE TRIGGER note_fts_insert AFTER INSERT ON note BEGIN
                INSERT INTO note_fts (rowid, text) VALUES (new.id, new.text);
            END;
            """)
        try db.execute("BEGIN IMMEDIATE TRANSACTION")
        XCTAssertEqual(try db.scalar("INSERT INTO note (text) VALUES ('a') RETURNING id"), .integer(1))
        XCTAssertTrue(db.isInTransaction, "the transaction is still the caller's to end")
        XCTAssertEqual(try db.queryOne("INSERT INTO note (text) VALUES ('b') RETURNING id, text")?.text("text"), "b")
        XCTAssertTrue(db.isInTransaction)
        try db.execute("ROLLBACK TRANSACTION")
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM note"), .integer(0))
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM note_fts WHERE note_fts MATCH 'a OR b'"), .integer(0))
    }
}
