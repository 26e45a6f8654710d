/// An ordered list of header fields with case-insensitive lookup.
public struct HTTPHeaders: Sendable, Sequence {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}

    /// Room for `capacity` fields without growing.
    public init(capacity: Int) {
        fields.reserveCapacity(capacity)
    }

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    public var count: Int { fields.count }

    /// The first value of `name`, compared case-insensitively.
    public subscript(_ name: String) -> String? {
        for field in fields where field.name.equalsIgnoringASCIICase(name) {
            return field.value
        }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.compactMap { $0.name.equalsIgnoringASCIICase(name) ? $0.value : nil }
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    public mutating func add(_ name: String, _ value: String) {
        // A response on its way out gains a field in each layer (ETag, Vary, X-Request-ID, ...): grow once, to room
        // for them all, instead of at every second one.
        if fields.count == fields.capacity { fields.reserveCapacity(Swift.max(12, 2 * fields.count)) }
        fields.append((name: name, value: value))
    }

    /// Replaces every field called `name` with one field.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        // Looked at before anything is changed: removing nothing must not copy a shared list.
        guard fields.contains(where: { $0.name.equalsIgnoringASCIICase(name) }) else { return }
        fields.removeAll { $0.name.equalsIgnoringASCIICase(name) }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }

    /// Comma-separated list elements of every `name` field, trimmed, empty ones dropped (RFC 9110 §5.6.1).
    public func listValues(_ name: String) -> [String] {
        var elements: [String] = []
        for value in values(name) {
            for part in value.utf8.split(separator: UInt8(ascii: ",")) {
                let element = Substring(part).trimmingHTTPWhitespace()
                if !element.isEmpty { elements.append(element) }
            }
        }
        return elements
    }
}

extension StringProtocol {
    /// ASCII case-insensitive equality, which is what header names and tokens need.
    public func equalsIgnoringASCIICase<S: StringProtocol>(_ other: S) -> Bool {
        let a = self.utf8, b = other.utf8
        guard a.count == b.count else { return false }
        // Contiguous fast path (native strings): plain pointer loops, no iterator machinery.
        if let result = a.withContiguousStorageIfAvailable({ x in
            b.withContiguousStorageIfAvailable { y in Self.equalsIgnoringASCIICase(x, y) }
        }), let result {
            return result
        }
        var i = a.startIndex, j = b.startIndex
        while i != a.endIndex {
            if !Self.sameLetter(a[i], b[j]) { return false }
            i = a.index(after: i)
            j = b.index(after: j)
        }
        return true
    }

    @inline(__always)
    private static func sameLetter(_ x: UInt8, _ y: UInt8) -> Bool {
        x == y || ((x | 0x20) == (y | 0x20) && (x | 0x20) >= 97 && (x | 0x20) <= 122)
    }

    private static func equalsIgnoringASCIICase(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        for i in 0..<x.count where !sameLetter(x[i], y[i]) { return false }
        return true
    }

    /// The string without leading and trailing spaces and tabs.
    public func trimmingHTTPWhitespace() -> String {
        let text = Substring(self)
        let utf8 = text.utf8
        var start = utf8.startIndex, end = utf8.endIndex
        while start < end, utf8[start] == 0x20 || utf8[start] == 0x09 { start = utf8.index(after: start) }
        while end > start {
            let before = utf8.index(before: end)
            guard utf8[before] == 0x20 || utf8[before] == 0x09 else { break }
            end = before
        }
        return String(text[start..<end])
    }
}
