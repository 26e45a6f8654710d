import XCTest
@testable import PostgreSQL

/// Pure: both bytea text forms.
final class PGByteaTextTests: XCTestCase {
    private func decode(_ text: String) -> [UInt8]? {
        Array(text.utf8).withUnsafeBufferPointer { PGByteaText.decode($0) }
    }

    func testHex() {
        XCTAssertEqual(decode(#"\x"#), [])
        XCTAssertEqual(decode(#"\x00ff10Ab"#), [0x00, 0xff, 0x10, 0xab])
        XCTAssertNil(decode(#"\x0"#))
        XCTAssertNil(decode(#"\xzz"#))
        XCTAssertEqual(PGByteaText.hex([0x00, 0xff, 0x10]), "00ff10")
    }

    func testEscape() {
        XCTAssertEqual(decode(#"ab\000\\\377"#), [0x61, 0x62, 0x00, 0x5c, 0xff])
        XCTAssertEqual(decode(""), [])
        XCTAssertNil(decode(#"\9"#))
    }
}
