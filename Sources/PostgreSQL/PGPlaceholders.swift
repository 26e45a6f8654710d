/// Finds the parameters of one SQL statement, skipping string literals, quoted identifiers,
/// comments and dollar-quoted bodies, where `$1` or `?` is just text.
///
/// The server cannot tell us when we bind *more* values than the SQL uses: a statement
/// prepared with explicit types for unused parameters is legal and ignores the extras.
/// Counting here turns that silent bug into a misuse error before anything is sent.
public enum PGPlaceholders {
    /// The highest `$n` in `sql` (PostgreSQL numbers parameters densely from 1 up to it), 0 when none.
    static func count(in sql: String) -> Int {
        var highest = 0
        scan(Array(sql.utf8)) { placeholder in
            if case .numbered(let number, _) = placeholder { highest = max(highest, number) }
        }
        return highest
    }

    /// `sql` written with `?` parameters (SQLite's and ODBC's style) renumbered `$1, $2, ...` in order, for
    /// code that writes one statement for both engines. A `?` inside a literal, a quoted identifier, a comment or
    /// a dollar-quoted body stays as it is; so would an operator spelled with `?` (jsonb's `?`, `?|`, `?&`),
    /// which such SQL must write as the functions `jsonb_exists`, `jsonb_exists_any`, `jsonb_exists_all`.
    public static func numbered(questionMarks sql: String) -> String {
        let bytes = Array(sql.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 16)
        var copied = 0
        var number = 0
        scan(bytes) { placeholder in
            guard case .questionMark(let index) = placeholder else { return }
            output += bytes[copied..<index]
            number += 1
            output += Array("$\(number)".utf8)
            copied = index + 1
        }
        output += bytes[copied...]
        return String(decoding: output, as: UTF8.self)
    }

    enum Placeholder {
        /// `$n`, ending before `end`.
        case numbered(Int, end: Int)
        /// A `?` at `index`.
        case questionMark(Int)
    }

    /// Calls `visit` for each placeholder outside literals, identifiers and comments, in order.
    static func scan(_ bytes: [UInt8], _ visit: (Placeholder) -> Void) {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "'"):
                index = skipString(bytes, from: index, backslashEscapes: false)
            case UInt8(ascii: "\""):
                index = skipQuoted(bytes, from: index, quote: UInt8(ascii: "\""))
            case UInt8(ascii: "-") where next(bytes, index) == UInt8(ascii: "-"):
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where next(bytes, index) == UInt8(ascii: "*"):
                index = skipBlockComment(bytes, from: index)
            case UInt8(ascii: "?"):
                visit(.questionMark(index))
                index += 1
            case UInt8(ascii: "$"):
                if let (number, end) = parameter(bytes, at: index) {
                    visit(.numbered(number, end: end))
                    index = end
                } else {
                    index = skipDollarQuoted(bytes, from: index)
                }
            case _ where isIdentifierStart(byte):
                let start = index
                // `$` inside an identifier (`a$1`) belongs to it, so the whole word is skipped.
                while index < bytes.count, isIdentifierPart(bytes[index]) { index += 1 }
                if index - start == 1, bytes[start] | 0x20 == UInt8(ascii: "e"), index < bytes.count, bytes[index] == UInt8(ascii: "'") {
                    index = skipString(bytes, from: index, backslashEscapes: true)
                }
            default:
                index += 1
            }
        }
    }

    private static func next(_ bytes: [UInt8], _ index: Int) -> UInt8? {
        index + 1 < bytes.count ? bytes[index + 1] : nil
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    private static func isIdentifierPart(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || isDigit(byte) || byte == UInt8(ascii: "$")
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// `'...'` with `''` for a quote; an `E'...'` string also escapes with backslashes.
    private static func skipString(_ bytes: [UInt8], from start: Int, backslashEscapes: Bool) -> Int {
        var index = start + 1
        while index < bytes.count {
            if backslashEscapes, bytes[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if bytes[index] == UInt8(ascii: "'") {
                if next(bytes, index) == UInt8(ascii: "'") {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return index
    }

    private static func skipQuoted(_ bytes: [UInt8], from start: Int, quote: UInt8) -> Int {
        var index = start + 1
        while index < bytes.count {
            if bytes[index] == quote {
                if next(bytes, index) == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return index
    }

    /// PostgreSQL block comments nest.
    private static func skipBlockComment(_ bytes: [UInt8], from start: Int) -> Int {
        var depth = 0
        var index = start
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "/"), next(bytes, index) == UInt8(ascii: "*") {
                depth += 1
                index += 2
            } else if bytes[index] == UInt8(ascii: "*"), next(bytes, index) == UInt8(ascii: "/") {
                depth -= 1
                index += 2
                if depth == 0 { return index }
            } else {
                index += 1
            }
        }
        return index
    }

    private static func parameter(_ bytes: [UInt8], at start: Int) -> (Int, Int)? {
        var index = start + 1
        var number = 0
        while index < bytes.count, isDigit(bytes[index]) {
            // The server caps parameters at 65535; saturating keeps absurd input from overflowing.
            number = min(number * 10 + Int(bytes[index] - UInt8(ascii: "0")), 1_000_000)
            index += 1
        }
        return index > start + 1 ? (number, index) : nil
    }

    /// `$tag$ ... $tag$` (or `$$ ... $$`); a lone `$` that opens no tag is skipped by itself.
    private static func skipDollarQuoted(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start + 1
        while index < bytes.count, bytes[index] != UInt8(ascii: "$") {
            guard index == start + 1 ? isIdentifierStart(bytes[index]) : (isIdentifierStart(bytes[index]) || isDigit(bytes[index])) else {
                return start + 1
            }
            index += 1
        }
        guard index < bytes.count else { return start + 1 }
        let delimiter = Array(bytes[start...index])
        var search = index + 1
        while search + delimiter.count <= bytes.count {
            if bytes[search] == UInt8(ascii: "$"), Array(bytes[search..<(search + delimiter.count)]) == delimiter {
                return search + delimiter.count
            }
            search += 1
        }
        return bytes.count
    }
}
