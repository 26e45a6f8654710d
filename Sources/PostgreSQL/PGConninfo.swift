import Foundation
import CPostgreSQL

/// Connection strings in both libpq forms, `postgres://user:secret@host:5432/db?...` and
/// `host=... password=secret`, with the password masked for logs and error messages.
public enum PGConninfo {
    static let mask = "***"

    /// The connection string with any password replaced by `***`; safe to log.
    public static func masked(_ conninfo: String) -> String {
        var text = conninfo
        if let scheme = text.range(of: "://") {
            text = maskURLUserInfo(text, after: scheme.upperBound)
        }
        text = maskKeyword(text)
        return maskingPassword(of: conninfo, in: text)
    }

    /// `message` with every occurrence of the password that `conninfo` carries replaced,
    /// so that nothing libpq or the server echoes can reveal it.
    static func maskingPassword(of conninfo: String, in message: String) -> String {
        guard let password = password(in: conninfo), !password.isEmpty else { return message }
        return message.replacingOccurrences(of: password, with: mask)
    }

    /// The password as libpq itself reads it from the string (percent-decoding a URL),
    /// or nil when there is none or the string does not parse.
    static func password(in conninfo: String) -> String? {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            PQfreemem(errorMessage)
            return nil
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                return String(cString: value)
            }
            option += 1
        }
        return nil
    }

    /// Masks `user:secret@`: as libpq does, the user part ends at the first `@` before any `/`.
    private static func maskURLUserInfo(_ text: String, after start: String.Index) -> String {
        var index = start
        while index < text.endIndex, text[index] != "@", text[index] != "/" {
            index = text.index(after: index)
        }
        guard index < text.endIndex, text[index] == "@",
              let colon = text[start..<index].firstIndex(of: ":") else { return text }
        return String(text[...colon]) + mask + String(text[index...])
    }

    /// Masks `password=secret` in a URL query or a keyword string, quoted (`'a b'`) or not.
    private static func maskKeyword(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let found = rest.range(of: "password", options: .caseInsensitive) {
            result += rest[..<found.upperBound]
            var index = found.upperBound
            while index < rest.endIndex, rest[index] == " " { index = rest.index(after: index) }
            guard index < rest.endIndex, rest[index] == "=" else {
                rest = rest[found.upperBound...]
                continue
            }
            index = rest.index(after: index)
            while index < rest.endIndex, rest[index] == " " { index = rest.index(after: index) }
            result += rest[found.upperBound..<index] + mask
            rest = rest[valueEnd(in: rest, from: index)...]
        }
        return result + rest
    }

    private static func valueEnd(in text: Substring, from start: String.Index) -> String.Index {
        var index = start
        if index < text.endIndex, text[index] == "'" {
            index = text.index(after: index)
            while index < text.endIndex, text[index] != "'" {
                // A backslash escapes the next character inside a quoted keyword value.
                if text[index] == "\\" { index = text.index(after: index) }
                if index < text.endIndex { index = text.index(after: index) }
            }
            return index < text.endIndex ? text.index(after: index) : index
        }
        while index < text.endIndex, text[index] != "&", text[index] != " " {
            index = text.index(after: index)
        }
        return index
    }
}
