import Foundation

/// Appends JSON text to a byte buffer without intermediate objects; the hot path of every response.
/// The buffer is raw memory grown by doubling (an Array's per-append checks showed up in list profiles);
/// copies of a writer are independent (copy on write).
public struct JSONWriter: @unchecked Sendable {
    /// Owned by exactly one writer value at a time (copied before a shared one is mutated).
    private final class Storage {
        var base: UnsafeMutablePointer<UInt8>
        var count = 0
        var capacity: Int

        init(capacity: Int) {
            self.capacity = Swift.max(capacity, 64)
            base = .allocate(capacity: self.capacity)
        }

        deinit { base.deallocate() }

        func copy() -> Storage {
            let other = Storage(capacity: capacity)
            other.base.update(from: base, count: count)
            other.count = count
            return other
        }

        @inline(__always)
        func reserve(_ extra: Int) {
            if count + extra > capacity { grow(to: count + extra) }
        }

        private func grow(to needed: Int) {
            var newCapacity = capacity * 2
            while newCapacity < needed { newCapacity *= 2 }
            let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            newBase.update(from: base, count: count)
            base.deallocate()
            base = newBase
            capacity = newCapacity
        }

        @inline(__always)
        func append(_ byte: UInt8) {
            reserve(1)
            base[count] = byte
            count += 1
        }

        @inline(__always)
        func append(_ raw: UnsafeRawBufferPointer) {
            guard raw.count > 0 else { return }
            reserve(raw.count)
            memcpy(base + count, raw.baseAddress!, raw.count)
            count += raw.count
        }
    }

    private var storage: Storage
    private var needsComma = false

    public init(capacity: Int = 256) { storage = Storage(capacity: capacity) }

    /// The JSON written so far.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage.base, count: storage.count)) }

    /// The storage, made unique first so a copied writer never changes its copies.
    private var out: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }
    }

    public mutating func beginObject() { separate(); out.append(UInt8(ascii: "{")); needsComma = false }
    public mutating func endObject() { out.append(UInt8(ascii: "}")); needsComma = true }
    public mutating func beginArray() { separate(); out.append(UInt8(ascii: "[")); needsComma = false }
    public mutating func endArray() { out.append(UInt8(ascii: "]")); needsComma = true }

    /// Writes `"name":`; the next value call writes the member's value.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        out.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) { separate(); appendQuoted(value); needsComma = true }

    /// The pre-serialised form of a member name, `"name":`, for names written many times (record fields).
    public static func keyBytes(_ name: String) -> [UInt8] {
        var writer = JSONWriter(capacity: name.utf8.count + 4)
        writer.key(name)
        return writer.bytes
    }

    /// Writes a member name given as `keyBytes(_:)` made it.
    public mutating func key(bytes: [UInt8]) {
        separate()
        let target = out
        bytes.withUnsafeBytes { target.append($0) }
        needsComma = false
    }
    public mutating func null() { separate(); append("null"); needsComma = true }
    public mutating func bool(_ value: Bool) { separate(); append(value ? "true" : "false"); needsComma = true }
    public mutating func int<I: BinaryInteger>(_ value: I) {
        separate()
        appendDecimal(Int64(value))
        needsComma = true
    }

    /// Decimal digits without going through String (integer formatting showed up in list profiles).
    private mutating func appendDecimal(_ value: Int64) {
        let target = out
        if value < 0 {
            target.append(UInt8(ascii: "-"))
            if value == .min { append("9223372036854775808"); return }
        }
        var magnitude = value.magnitude
        if magnitude < 10 { target.append(UInt8(truncatingIfNeeded: magnitude) + 48); return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            while magnitude > 0 {
                digits[count] = UInt8(truncatingIfNeeded: magnitude % 10) + 48
                magnitude /= 10
                count += 1
            }
            target.reserve(count)
            for i in stride(from: count - 1, through: 0, by: -1) { target.append(digits[i]) }
        }
    }
    /// Writes a number given as valid JSON number text.
    public mutating func number(_ text: String) { separate(); append(text); needsComma = true }
    /// Writes pre-serialised JSON verbatim.
    public mutating func raw(_ json: [UInt8]) {
        separate()
        let target = out
        json.withUnsafeBytes { target.append($0) }
        needsComma = true
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let items):
            beginArray()
            for item in items { self.value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for (k, v) in members { key(k); self.value(v) }
            endObject()
        }
    }

    // Convenience members: `"name": value`.
    public mutating func member(_ name: String, _ value: String?) { key(name); if let value { string(value) } else { null() } }
    public mutating func member<I: BinaryInteger>(_ name: String, _ value: I?) { key(name); if let value { int(value) } else { null() } }
    public mutating func member(_ name: String, _ value: Bool) { key(name); bool(value) }
    public mutating func member(_ name: String, json value: JSONValue) { key(name); self.value(value) }

    private mutating func separate() {
        if needsComma { out.append(UInt8(ascii: ",")) }
    }

    private mutating func append(_ text: String) {
        var text = text
        let target = out
        text.withUTF8 { target.append(UnsafeRawBufferPointer($0)) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendQuoted(_ text: String) {
        let target = out
        target.append(UInt8(ascii: "\""))
        var text = text
        // Bulk-copy the runs that need no escaping: most text has none.
        text.withUTF8 { utf8 in
            var runStart = 0
            var i = 0
            let count = utf8.count
            while i < count {
                // Eight bytes at a time: skip words with no control byte, quote, backslash or DEL (SWAR tests).
                if i + 8 <= count {
                    let word = UnsafeRawPointer(utf8.baseAddress! + i).loadUnaligned(as: UInt64.self)
                    if !Self.needsEscape(word) { i += 8; continue }
                }
                let b = utf8[i]
                i += 1
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == 0x7F else { continue }
                if i - 1 > runStart { target.append(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart..<(i - 1)])) }
                Self.appendEscape(b, to: target)
                runStart = i
            }
            if count > runStart { target.append(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart...])) }
        }
        target.append(UInt8(ascii: "\""))
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    private static func hasZeroByte(_ v: UInt64) -> Bool { (v &- ones) & ~v & highs != 0 }

    /// Whether any byte of `word` is < 0x20, `"`, `\` or 0x7F (bytes ≥ 0x80 never need escaping).
    @inline(__always)
    private static func needsEscape(_ word: UInt64) -> Bool {
        let control = (word &- ones &* 0x20) & ~word & highs != 0
        return control || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C)) || hasZeroByte(word ^ (ones &* 0x7F))
    }

    private static func appendEscape(_ b: UInt8, to target: Storage) {
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): target.append(UInt8(ascii: "\\")); target.append(b)
        case 0x0A: target.append(UInt8(ascii: "\\")); target.append(UInt8(ascii: "n"))
        case 0x0D: target.append(UInt8(ascii: "\\")); target.append(UInt8(ascii: "r"))
        case 0x09: target.append(UInt8(ascii: "\\")); target.append(UInt8(ascii: "t"))
        default:
            for c in [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]] {
                target.append(c)
            }
        }
    }
}
