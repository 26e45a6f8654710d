import JSON
import XCTest
@testable import JSON

final class JSONTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8))
    }

    private func assertRejected(_ bytes: [UInt8], _ why: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSONParser.parse(bytes), why, file: file, line: line) { error in
            XCTAssertTrue(error is JSONParseError, file: file, line: line)
        }
    }

    private func assertRejected(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        assertRejected(Array(text.utf8), text, file: file, line: line)
    }

    func testCompactDocumentsRoundTripByteForByte() throws {
        let documents = [
            #"{"a":[1,-2.5,3e10,0,-0,1E-7,true,false,null],"b":{"c":"d"},"e":[],"f":{}}"#,
            #"["x\"y\\z\/","tab\tnl\nret\r","\u0001\u007f","é中😀"]"#,
            #""just a string""#,
            "12.50",
            "null",
        ]
        for text in documents {
            let value = try parse(text)
            let written = value.encoded
            XCTAssertEqual(try JSONParser.parse(written), value, text)
        }
        let canonical = #"{"name":"Geneva","rate":12.50,"tags":["a","b"],"nested":{"ok":true,"none":null}}"#
        XCTAssertEqual(String(decoding: try parse(canonical).encoded, as: UTF8.self), canonical)
    }

    func testParsedValuesAreExact() throws {
        let value = try parse(" { \"rate\" : 12.50 , \"big\": 123456789012345678901234567890, \"s\": \"a\\u00e9\\ud83d\\ude00\" } ")
        XCTAssertEqual(value["rate"], .number("12.50"))
        XCTAssertEqual(value["big"], .number("123456789012345678901234567890"))
        XCTAssertEqual(value["s"], .string("aé😀"))
        XCTAssertEqual(value.objectValue?.map(\.0), ["rate", "big", "s"], "member order is kept")
    }

    func testWriterEscapesControlCharacters() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.member("k", "q\"b\\\u{01}\n")
        writer.member("n", nil as String?)
        writer.member("i", 42)
        writer.endObject()
        XCTAssertEqual(String(decoding: writer.bytes, as: UTF8.self), #"{"k":"q\"b\\\u0001\n","n":null,"i":42}"#)
    }

    func testDuplicateKeysAreRejected() {
        assertRejected(#"{"a":1,"a":2}"#)
        assertRejected(#"{"a":1,"\u0061":2}"#)
        assertRejected(#"{"x":{"a":1,"b":2,"a":3}}"#)
    }

    func testSameKeyInDifferentObjectsIsFine() throws {
        XCTAssertNoThrow(try parse(#"[{"a":1},{"a":2}]"#))
    }

    func testInvalidUTF8IsRejectedInsideAndOutsideStrings() {
        assertRejected(Array(#"{"a":""#.utf8) + [0xFF] + Array(#""}"#.utf8), "0xFF in a string")
        assertRejected(Array(#"{"a":""#.utf8) + [0xC3] + Array(#""}"#.utf8), "truncated sequence in a string")
        assertRejected(Array(#"{"a":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8), "encoded surrogate")
        assertRejected(Array(#"{"a":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8), "overlong encoding")
        assertRejected(Array(#"{"a":1}"#.utf8) + [0xFF], "0xFF after the value")
        assertRejected(Array("[1, ".utf8) + [0xFE] + Array("]".utf8), "0xFE between values")
    }

    func testLoneSurrogateEscapesAreRejected() {
        assertRejected(#""\ud800""#)
        assertRejected(#""\udc00""#)
        assertRejected(#""\ud800\u0041""#)
        assertRejected(#""\ud800x""#)
    }

    func testNestingDepth64IsAcceptedAnd65Rejected() {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try parse(ok))
        assertRejected(String(repeating: "[", count: 65) + String(repeating: "]", count: 65))
        let objects64 = String(repeating: #"{"a":"#, count: 63) + "{}" + String(repeating: "}", count: 63)
        XCTAssertNoThrow(try parse(objects64))
        assertRejected(String(repeating: #"{"a":"#, count: 64) + "{}" + String(repeating: "}", count: 64))
    }

    func testTrailingGarbageIsRejected() {
        assertRejected(#"{"a":1} x"#)
        assertRejected(#"{"a":1}{}"#)
        assertRejected("1 2")
    }

    func testMalformedNumbersAreRejected() {
        for text in ["01", "[00]", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "[1,]", "NaN", "Infinity"] {
            assertRejected(text)
        }
    }

    func testControlCharactersInStringsAreRejected() {
        assertRejected(Array("\"a".utf8) + [0x0A] + Array("b\"".utf8), "raw newline in a string")
        assertRejected(Array("\"a".utf8) + [0x00] + Array("b\"".utf8), "NUL in a string")
        assertRejected(Array("\"a".utf8) + [0x1F] + Array("b\"".utf8), "0x1F in a string")
    }

    func testOtherSyntaxErrorsAreRejected() {
        for text in ["", " ", "{", #"{"a"}"#, #"{"a":}"#, #"{a:1}"#, "[1 2]", "tru", "nul", #""\x""#, #""unterminated"#, "'a'"] {
            assertRejected(text)
        }
    }
}

final class JSONIntegerValueTests: XCTestCase {
    func testAnIntegerIsAValueNotASpelling() throws {
        func value(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }
        XCTAssertEqual(try value("7").integerValue, 7)
        XCTAssertEqual(try value("7.0").integerValue, 7)
        XCTAssertEqual(try value("7.000").integerValue, 7)
        XCTAssertEqual(try value("7e0").integerValue, 7)
        XCTAssertEqual(try value("-3.0").integerValue, -3)
        XCTAssertEqual(try value("274877906944.0").integerValue, 274_877_906_944)
        XCTAssertNil(try value("7.5").integerValue)
        XCTAssertNil(try value("1e300").integerValue, "beyond what a double tells exactly")
        XCTAssertNil(try value("\"7\"").integerValue)
        XCTAssertNil(try value("7.0").intValue, "intValue stays the exact spelling")
    }
}
