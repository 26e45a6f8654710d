import Foundation
import JSON
import SQLite

/// Which list a cursor belongs to: a resource (`rounds`), or one owner's sub-list (`rounds/3/participants`,
/// `negotiations/1/timeline`, `rounds/7/history`). A cursor from one scope is refused by every other.
struct CursorScope: Sendable, Hashable {
    let name: String
    init(_ name: String) { self.name = name }
}

/// Opaque, signed list cursors: the query they continue and the sort key of the last row served.
/// The signature (keyed SipHash) makes a tampered or foreign cursor a 400 rather than a strange page.
struct CursorSigner: Sendable {
    let hasher: SipHash

    struct Payload: Equatable {
        var scope: String
        var parameters: [[String]]
        var keys: [SQLValue]
    }

    func encode(_ payload: Payload) -> String {
        var json = JSONWriter(capacity: 128)
        json.beginObject()
        json.member("r", payload.scope)
        json.key("p")
        json.beginArray()
        for pair in payload.parameters {
            json.beginArray()
            for part in pair { json.string(part) }
            json.endArray()
        }
        json.endArray()
        json.key("k")
        json.beginArray()
        for key in payload.keys {
            switch key {
            case .integer(let n): json.int(n)
            case .text(let s): json.string(s)
            case .real(let d): json.number(String(d))
            default: json.null()
            }
        }
        json.endArray()
        json.endObject()
        let body = Base64URL.encode(json.bytes)
        return body + "." + hasher.hash(Array(body.utf8)).paddedHex
    }

    func decode(_ cursor: String) throws(Problem) -> Payload {
        let invalid = APIError.invalidParameter("cursor", "is not a cursor this list issued; start again without it")
        let parts = cursor.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 16,
              hasher.hash(Array(parts[0].utf8)).paddedHex == parts[1],
              let bytes = Base64URL.decode(String(parts[0])),
              let json = try? JSONParser.parse(bytes),
              let scope = json["r"]?.stringValue,
              let parameters = json["p"]?.arrayValue,
              let keys = json["k"]?.arrayValue else { throw invalid }
        var pairs: [[String]] = []
        for pair in parameters {
            guard let items = pair.arrayValue, items.count == 2, let name = items[0].stringValue, let value = items[1].stringValue
            else { throw invalid }
            pairs.append([name, value])
        }
        var values: [SQLValue] = []
        for key in keys {
            switch key {
            case .number(let text):
                guard let n = Int64(text) else { throw invalid }
                values.append(.integer(n))
            case .string(let s): values.append(.text(s))
            default: throw invalid
            }
        }
        return Payload(scope: scope, parameters: pairs, keys: values)
    }
}

/// base64url without padding (RFC 4648 §5).
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i < bytes.count {
            let b0 = Int(bytes[i]), b1 = i + 1 < bytes.count ? Int(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? Int(bytes[i + 2]) : 0
            out.append(alphabet[b0 >> 2])
            out.append(alphabet[(b0 & 3) << 4 | b1 >> 4])
            if i + 1 < bytes.count { out.append(alphabet[(b1 & 15) << 2 | b2 >> 6]) }
            if i + 2 < bytes.count { out.append(alphabet[b2 & 63]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122)
            || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
