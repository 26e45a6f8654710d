import Synchronization

/// Request ids: echoed from the client when well-formed, generated otherwise.
public enum RequestID {
    /// Six random characters per process, so ids are unlikely to repeat across restarts. With the counter in hex
    /// an id stays within 15 bytes for 4 billion requests, which Swift stores inline: no allocation per request.
    private static let prefix: [UInt8] = {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var generator = SystemRandomNumberGenerator()
        return (0..<6).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
    }()
    private static let counter = Atomic<UInt64>(0)
    private static let hex = Array("0123456789abcdef".utf8)

    /// A new id unique within this process, e.g. `k3Xz9Q-1a2b`.
    public static func generate() -> String {
        var n = counter.add(1, ordering: .relaxed).newValue
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            for i in 0..<6 { buffer[i] = prefix[i] }
            buffer[6] = UInt8(ascii: "-")
            var digits = 0
            var reversed: (UInt64, Int) = (0, 0)
            repeat {
                reversed.0 = reversed.0 << 4 | (n & 0xf)
                reversed.1 += 1
                n >>= 4
                digits += 1
            } while n > 0 && digits < 16
            for i in 0..<reversed.1 {
                buffer[7 + i] = hex[Int(reversed.0 & 0xf)]
                reversed.0 >>= 4
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<(7 + reversed.1)]), as: UTF8.self)
        }
    }

    /// Whether a client-sent id may be echoed: 1–128 characters of `[A-Za-z0-9._-]`.
    public static func isAcceptable(_ value: String) -> Bool {
        let utf8 = value.utf8
        guard (1...128).contains(utf8.count) else { return false }
        return utf8.allSatisfy { b in
            (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
    }

    /// The id for `request`: its valid `X-Request-ID`, or a new one.
    public static func assign(from headers: HTTPHeaders) -> String {
        if let sent = headers["X-Request-ID"], isAcceptable(sent) { return sent }
        return generate()
    }
}
