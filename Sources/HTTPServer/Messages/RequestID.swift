import Foundation
import Synchronization

/// Request ids: echoed from the client when well-formed, generated otherwise.
public enum RequestID {
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }()
    private static let counter = Atomic<UInt64>(0)

    /// A new id unique within this process and unlikely to repeat across restarts.
    public static func generate() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return prefix + "-" + String(n, radix: 16)
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
