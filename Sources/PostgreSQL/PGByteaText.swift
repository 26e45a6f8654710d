/// `bytea` in PostgreSQL's two text output forms: hex (`\x4142`, the default since 9.0)
/// and the older escape form (`AB`, `\000`, `\\`) that `bytea_output = escape` selects.
enum PGByteaText {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex digits without the `\x` prefix.
    static func hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes either form; nil for text that is neither (which a server never sends).
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        if text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") {
            return decodeHex(UnsafeBufferPointer(rebasing: text[2...]))
        }
        return decodeEscape(text)
    }

    private static func decodeHex(_ digits: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static func decodeEscape(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let backslash = UInt8(ascii: "\\")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            guard byte == backslash else {
                bytes.append(byte)
                index += 1
                continue
            }
            if index + 1 < text.count, text[index + 1] == backslash {
                bytes.append(backslash)
                index += 2
                continue
            }
            // Three octal digits, as byteaout writes every non-printable byte.
            guard index + 3 < text.count,
                  let a = octal(text[index + 1]), let b = octal(text[index + 2]), let c = octal(text[index + 3]),
                  a <= 3 else { return nil }
            bytes.append(a << 6 | b << 3 | c)
            index += 4
        }
        return bytes
    }

    private static func octal(_ digit: UInt8) -> UInt8? {
        (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(digit) ? digit - UInt8(ascii: "0") : nil
    }
}
