import Foundation
import JSON
import XCTest
import SQLite
@testable import TradeTracker

/// One rule for U+0000 in text fields, in validation and schema alike: refused, with the field's pointer.
final class NULTextTests: ResourceAPITestCase {
    private func assertNULRefused(_ response: TestResponse, at pointer: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, 422, response.text, file: file, line: line)
        XCTAssertEqual(Problems.message(response, pointer), FieldDecoder.nulMessage, response.text, file: file, line: line)
    }

    func testNULIsRefusedWithAPointerInEveryKindOfTextField() throws {
        assertNULRefused(try api.post("/v1/sources", #"{"title":"\u0000"}"#), at: "/title")
        assertNULRefused(try api.post("/v1/sources", #"{"title":"Joint\u0000statement"}"#), at: "/title")
        assertNULRefused(try api.post("/v1/sources", #"{"title":"x","url":"https://example.org/\u0000"}"#), at: "/url")
        assertNULRefused(try api.post("/v1/participants", #"{"name":"Scott Bessent","country":"USA","aliases":["Besant","Bes\u0000"]}"#),
                         at: "/aliases/1")
        let negotiation = try api.negotiation()
        assertNULRefused(try api.post("/v1/issues", #"{"negotiation_id":\#(negotiation),"category":"tariffs","title":"Tariffs","positions":{"USA":"\u0000"}}"#),
                         at: "/positions/USA")
        let source = try api.source()
        assertNULRefused(try api.patch("/v1/sources/\(source)", #"{"publisher":"\u0000"}"#), at: "/publisher")
        XCTAssertEqual(try app.count("sources"), 1, "nothing with a NUL was stored")
        // Other control characters are text like any other and round-trip exactly.
        let kept = try api.post("/v1/sources", #"{"title":"tab\there\u0001"}"#)
        XCTAssertEqual(kept.status, 201)
        XCTAssertEqual(try kept.json()["title"], .string("tab\there\u{1}"))
    }

    func testTheSchemaRefusesNULFromAnyWriter() throws {
        try TestApp.requireSQLite("SQLite's schema CHECKs; PostgreSQL text cannot hold NUL at all")
        let db = try SQLiteConnection(path: app.databasePath)
        defer { db.close() }
        XCTAssertThrowsError(try db.run("""
            INSERT INTO sources (title, created_at, updated_at) VALUES (?, '2025-05-12T08:00:00.000Z', '2025-05-12T08:00:00.000Z')
            """, [.text("a\u{0}b")])) { error in
            XCTAssertTrue((error as? SQLiteError)?.message.contains("NUL") ?? false, "\(error)")
        }
        try db.run("""
            INSERT INTO sources (title, created_at, updated_at) VALUES ('fine', '2025-05-12T08:00:00.000Z', '2025-05-12T08:00:00.000Z')
            """)
        XCTAssertThrowsError(try db.run("UPDATE sources SET publisher = ? WHERE title = 'fine'", [.text("\u{0}")]))
    }
}
