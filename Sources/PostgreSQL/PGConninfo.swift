import CPostgreSQL
import Foundation

/// Connection strings in both libpq forms, `postgres://user:secret@host:5432/db?...` and
/// `host=... password=secret`, with the password masked for logs and error messages.
public enum PGConninfo {
    static let mask = "***"

    /// The connection string with any password replaced by `***`; safe to log.
    public static func masked(_ conninfo: String) -> String {
        var text = conninfo
        if let userInfo = urlPassword(in: text) {
            text.replaceSubrange(userInfo, with: mask)
        }
        for range in keywordPasswords(in: text).reversed() {
            text.replaceSubrange(range, with: mask)
        }
        return maskingPassword(of: conninfo, in: text)
    }

    /// `message` with every trace of the password in `conninfo` replaced by `***`.
    ///
    /// libpq's own messages can quote the password when it cannot parse the string: a bad
    /// percent escape is echoed whole (`invalid percent-encoded token: "s3cr%zz"`), and an
    /// unencoded `/` or `@` makes part of it a host or port (`invalid integer value "s3cr"`).
    /// So the password as libpq parses it, as written, and each piece of it between such
    /// delimiters (3 characters or longer) are all masked.
    public static func maskingPassword(of conninfo: String, in message: String) -> String {
        var message = message
        for secret in secrets(in: conninfo) {
            message = message.replacingOccurrences(of: secret, with: mask)
        }
        return message
    }

    /// Every text that may reveal the password, longest first.
    static func secrets(in conninfo: String) -> [String] {
        var candidates: [String] = []
        if let parsed = password(in: conninfo) { candidates.append(parsed) }
        if let range = urlPassword(in: conninfo) { candidates.append(String(conninfo[range])) }
        for range in keywordPasswords(in: conninfo) {
            candidates.append(String(conninfo[range]))
        }
        let delimiters = CharacterSet(charactersIn: "@/:?#&=%' ")
        let pieces = candidates.flatMap { $0.components(separatedBy: delimiters).filter { $0.count >= 3 } }
        return Set(candidates + pieces).filter { !$0.isEmpty && $0 != mask }.sorted { $0.count > $1.count }
    }

    /// The password as libpq itself reads it from the string (percent-decoding a URL),
    /// or nil when there is none or the string does not parse.
    static func password(in conninfo: String) -> String? {
        guard (try? LibPQ.open()) != nil else { return nil }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = libpq.PQconninfoParse(conninfo, &errorMessage) else {
            libpq.PQfreemem(errorMessage)
            return nil
        }
        defer { libpq.PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                return String(cString: value)
            }
            option += 1
        }
        return nil
    }

    /// The `secret` of `scheme://user:secret@host`, taking the *last* `@` as the end of the user
    /// part, so that a password with an unencoded `@` or `/` is still covered whole (libpq would
    /// split such a string elsewhere, which is exactly when its messages quote the pieces).
    private static func urlPassword(in text: String) -> Range<String.Index>? {
        guard let scheme = text.range(of: "://"),
              let at = text.range(of: "@", options: .backwards), at.lowerBound > scheme.upperBound,
              let colon = text[scheme.upperBound..<at.lowerBound].firstIndex(of: ":") else { return nil }
        return text.index(after: colon)..<at.lowerBound
    }

    /// The values of `password=...` in a URL query or a keyword string, quoted (`'a b'`) or not.
    /// Also matches `sslpassword=`, which is as secret.
    private static func keywordPasswords(in text: String) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        var searchStart = text.startIndex
        while let found = text.range(of: "password", options: .caseInsensitive, range: searchStart..<text.endIndex) {
            searchStart = found.upperBound
            var index = found.upperBound
            while index < text.endIndex, text[index] == " " { index = text.index(after: index) }
            guard index < text.endIndex, text[index] == "=" else { continue }
            index = text.index(after: index)
            while index < text.endIndex, text[index] == " " { index = text.index(after: index) }
            let end = valueEnd(in: text, from: index)
            if index < end { ranges.append(index..<end) }
            searchStart = end
        }
        return ranges
    }

    private static func valueEnd(in text: String, from start: String.Index) -> String.Index {
        var index = start
        if index < text.endIndex, text[index] == "'" {
            index = text.index(after: index)
            while index < text.endIndex, text[index] != "'" {
                // A backslash escapes the next character inside a quoted keyword value.
                if text[index] == "\\" { index = text.index(after: index) }
                if index < text.endIndex { index = text.index(after: index) }
            }
            // An unterminated quote runs to the end, as libpq reads it.
            return index < text.endIndex ? text.index(after: index) : index
        }
        while index < text.endIndex, text[index] != "&", text[index] != " " {
            index = text.index(after: index)
        }
        return index
    }
}
