import FuzzSupport
import JSON

/// libFuzzer target for `JSONParser`: what it accepts is valid UTF-8, nests no deeper than the limit, has unique
/// member names, and survives encoding and parsing again unchanged.
@main
enum FuzzJSONParser {
    static func main() {
        FuzzDriver.run { data, count in
            FuzzJSONParser.check(FuzzDriver.bytes(data, count))
            return 0
        }
    }

    static func check(_ bytes: [UInt8]) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            if error.offset < 0 || error.offset > bytes.count {
                FuzzDriver.violated("error offset \(error.offset) outside the \(bytes.count)-byte input: \(error)")
            }
            return
        }
        if String(validating: bytes, as: UTF8.self) == nil {
            FuzzDriver.violated("invalid UTF-8 was accepted")
        }
        let depth = containerDepth(value)
        if depth > JSONParser.defaultMaxDepth {
            FuzzDriver.violated("accepted \(depth) nested containers, more than \(JSONParser.defaultMaxDepth)")
        }
        // The limit is exact: the same text passes with maxDepth = its depth and fails with one less.
        if depth > 0 {
            if (try? JSONParser.parse(bytes, maxDepth: depth - 1)) != nil {
                FuzzDriver.violated("\(depth) nested containers passed maxDepth \(depth - 1)")
            }
            if (try? JSONParser.parse(bytes, maxDepth: depth)) != value {
                FuzzDriver.violated("\(depth) nested containers failed maxDepth \(depth)")
            }
        }
        checkUniqueNames(value)

        let encoded = value.encoded
        if String(validating: encoded, as: UTF8.self) == nil {
            FuzzDriver.violated("the encoding is not UTF-8")
        }
        let reparsed: JSONValue
        do {
            reparsed = try JSONParser.parse(encoded)
        } catch {
            FuzzDriver.violated("the encoding does not parse (\(error)): \(String(decoding: encoded, as: UTF8.self).debugDescription)")
        }
        if reparsed != value {
            FuzzDriver.violated("encoding and parsing again changed the value: \(String(decoding: encoded, as: UTF8.self).debugDescription)")
        }
        if reparsed.encoded != encoded {
            FuzzDriver.violated("encoding is not stable")
        }
    }

    /// Arrays and objects nested in one another; the parser's `maxDepth` counts these (a scalar counts 0).
    static func containerDepth(_ value: JSONValue) -> Int {
        switch value {
        case .array(let items): return 1 + (items.map(containerDepth).max() ?? 0)
        case .object(let members): return 1 + (members.map { containerDepth($0.1) }.max() ?? 0)
        default: return 0
        }
    }

    static func checkUniqueNames(_ value: JSONValue) {
        switch value {
        case .array(let items):
            items.forEach(checkUniqueNames)
        case .object(let members):
            if Set(members.map(\.0)).count != members.count {
                FuzzDriver.violated("an object kept a duplicated member name")
            }
            members.forEach { checkUniqueNames($0.1) }
        default:
            break
        }
    }
}
