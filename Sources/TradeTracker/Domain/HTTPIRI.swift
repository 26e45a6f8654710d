/// The syntax of an `http://` or `https://` IRI, RFC 3987 §2.2 (with RFC 3986 §3.2.2 for IP literals): the rule
/// `format: iri` names in openapi.yaml, so a source URL the server takes is one the schema calls an IRI and back.
///
///     IRI          = scheme ":" "//" iauthority ipath-abempty [ "?" iquery ] [ "#" ifragment ]
///     iauthority   = [ iuserinfo "@" ] ihost [ ":" port ]
///     ihost        = IP-literal / IPv4address / ireg-name      (an IPv4 address is also a valid ireg-name)
///
/// Only the lower-case schemes `http` and `https` are taken. The text is checked as Unicode scalars; white space
/// is refused by the caller (the schema's pattern), not here.
enum HTTPIRI {
    static func isValid(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        // Compared as scalars: a combining mark after "//" would make String.hasPrefix see another last character.
        let rest: ArraySlice<Unicode.Scalar>
        if scalars.starts(with: "https://".unicodeScalars) { rest = scalars[8...] }
        else if scalars.starts(with: "http://".unicodeScalars) { rest = scalars[7...] }
        else { return false }
        // The authority runs to the first "/", "?" or "#"; then the path to "?" or "#"; the query to "#".
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        guard authority(rest[rest.startIndex..<authorityEnd]) else { return false }
        var i = authorityEnd
        while i < rest.endIndex, rest[i] != "?", rest[i] != "#" {
            guard rest[i] == "/" || isPathCharacter(rest[i]) else { return false }
            i += 1
        }
        if i < rest.endIndex, rest[i] == "?" {
            i += 1
            while i < rest.endIndex, rest[i] != "#" {
                guard isPathCharacter(rest[i]) || rest[i] == "/" || rest[i] == "?" || isPrivate(rest[i]) else { return false }
                i += 1
            }
        }
        if i < rest.endIndex {  // "#"
            i += 1
            while i < rest.endIndex {
                guard isPathCharacter(rest[i]) || rest[i] == "/" || rest[i] == "?" else { return false }
                i += 1
            }
        }
        return percentEscapesAreWhole(rest)
    }

    /// `[ iuserinfo "@" ] ihost [ ":" port ]`.
    private static func authority(_ part: ArraySlice<Unicode.Scalar>) -> Bool {
        var hostPort = part
        if let at = part.firstIndex(of: "@") {
            let userinfo = part[part.startIndex..<at]
            guard userinfo.allSatisfy({ isUnreserved($0) || isSubDelimiter($0) || $0 == ":" || $0 == "%" }) else { return false }
            hostPort = part[(at + 1)...]
        }
        var port: ArraySlice<Unicode.Scalar> = []
        if hostPort.first == "[" {
            guard let close = hostPort.firstIndex(of: "]"), ipLiteral(hostPort[(hostPort.startIndex + 1)..<close]) else { return false }
            let after = hostPort[(close + 1)...]
            if let first = after.first {
                guard first == ":" else { return false }
                port = after.dropFirst()
            }
        } else {
            let colon = hostPort.firstIndex(of: ":") ?? hostPort.endIndex
            guard hostPort[hostPort.startIndex..<colon].allSatisfy({ isUnreserved($0) || isSubDelimiter($0) || $0 == "%" }) else { return false }
            port = colon < hostPort.endIndex ? hostPort[(colon + 1)...] : []
        }
        return port.allSatisfy { ("0"..."9").contains($0) }
    }

    /// `IPv6address / IPvFuture` (the text between "[" and "]").
    private static func ipLiteral(_ text: ArraySlice<Unicode.Scalar>) -> Bool {
        if let v = text.first, v == "v" || v == "V" {
            guard let dot = text.firstIndex(of: "."), dot > text.startIndex + 1, dot < text.endIndex - 1 else { return false }
            return text[(text.startIndex + 1)..<dot].allSatisfy(isHexDigit)
                && text[(dot + 1)...].allSatisfy { $0.isASCII && (isUnreserved($0) || isSubDelimiter($0) || $0 == ":") }
        }
        return isIPv6(String(String.UnicodeScalarView(text)))
    }

    /// RFC 3986 `IPv6address`: eight 16-bit groups (the last two may be written as an IPv4 address), or fewer with one `::`.
    static func isIPv6(_ text: String) -> Bool {
        func groups(_ part: Substring, last: Bool) -> Int? {
            if part.isEmpty { return 0 }
            let items = part.split(separator: ":", omittingEmptySubsequences: false)
            var count = 0
            for (n, item) in items.enumerated() {
                if last && n == items.count - 1 && item.contains(".") {
                    guard isIPv4(item) else { return nil }
                    count += 2
                } else {
                    guard (1...4).contains(item.count), item.unicodeScalars.allSatisfy(isHexDigit) else { return nil }
                    count += 1
                }
            }
            return count
        }
        let halves = text.components(separatedBy: "::")
        switch halves.count {
        case 1:
            return groups(Substring(text), last: true) == 8
        case 2:
            guard let left = groups(Substring(halves[0]), last: false), let right = groups(Substring(halves[1]), last: true) else { return false }
            return left + right <= 7
        default:
            return false
        }
    }

    /// RFC 3986 `IPv4address`: four decimal octets without leading zeros.
    static func isIPv4(_ text: Substring) -> Bool {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { octet in
            guard (1...3).contains(octet.count), octet.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(octet) else { return false }
            return n <= 255 && (octet.count == 1 || octet.first != "0")
        }
    }

    /// `ipchar` = iunreserved / pct-encoded / sub-delims / ":" / "@" (a "%" here; whole escapes are checked once).
    private static func isPathCharacter(_ c: Unicode.Scalar) -> Bool {
        isUnreserved(c) || isSubDelimiter(c) || c == ":" || c == "@" || c == "%"
    }

    /// `iunreserved` = ALPHA / DIGIT / "-" / "." / "_" / "~" / ucschar.
    private static func isUnreserved(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E: return true
        case 0xA0...0xD7FF, 0xF900...0xFDCF, 0xFDF0...0xFFEF: return true
        case 0x10000...0xDFFFD: return c.value & 0xFFFF <= 0xFFFD
        case 0xE1000...0xEFFFD: return true
        default: return false
        }
    }

    /// `iprivate`, allowed in the query only.
    private static func isPrivate(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0xE000...0xF8FF, 0xF0000...0xFFFFD, 0x100000...0x10FFFD: return true
        default: return false
        }
    }

    private static func isSubDelimiter(_ c: Unicode.Scalar) -> Bool { "!$&'()*+,;=".unicodeScalars.contains(c) }

    private static func isHexDigit(_ c: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(c) || ("a"..."f").contains(c) || ("A"..."F").contains(c)
    }

    /// Every `%` starts a whole escape: `%` and two hex digits (RFC 3987 `pct-encoded`).
    private static func percentEscapesAreWhole(_ scalars: ArraySlice<Unicode.Scalar>) -> Bool {
        var i = scalars.startIndex
        while i < scalars.endIndex {
            if scalars[i] == "%" {
                guard i + 2 < scalars.endIndex, isHexDigit(scalars[i + 1]), isHexDigit(scalars[i + 2]) else { return false }
                i += 3
            } else {
                i += 1
            }
        }
        return true
    }
}
