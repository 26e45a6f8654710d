import JSON
import XCTest
@testable import JSON

/// The writer's word-at-a-time escaping must match a plain byte-by-byte reading of RFC 8259 for every position.
final class JSONWriterEscapingTests: XCTestCase {
    func testEveryEscapeAtEveryOffsetRoundTrips() throws {
        let specials: [String] = ["\"", "\\", "\n", "\r", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "€", "😀", "/"]
        for special in specials {
            for offset in 0..<20 {
                for length in [offset, offset + 1, offset + 9, 24] where length >= offset {
                    let text = String(repeating: "a", count: offset) + special + String(repeating: "b", count: length - offset)
                    var writer = JSONWriter()
                    writer.string(text)
                    let parsed = try JSONParser.parse(writer.bytes)
                    XCTAssertEqual(parsed, .string(text), "special \(special.unicodeScalars.map { $0.value }) at \(offset)")
                }
            }
        }
    }

    func testControlCharactersAreEscapedNotCopied() {
        var writer = JSONWriter()
        writer.string("ab\u{00}cdefghij\u{7F}\"\\")
        XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), #""ab\u0000cdefghij\u007f\"\\""#)
    }

    func testIntegersFormatExactly() {
        var writer = JSONWriter()
        writer.beginArray()
        for n: Int64 in [0, 7, 10, -1, -10, 1234567890123, .max, .min] { writer.int(n) }
        writer.endArray()
        XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self),
                       "[0,7,10,-1,-10,1234567890123,9223372036854775807,-9223372036854775808]")
    }
}
