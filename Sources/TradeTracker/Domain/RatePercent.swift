/// Tariff rates as exact integers of hundredths of a percent (12.5 % = 1250), never floating point.
enum RatePercent {
    /// Parses a JSON number literal with at most two decimals, e.g. `12.5` → 1250; nil when it has more
    /// decimals, an exponent, a sign or too many digits.
    static func hundredths(fromJSONNumber text: String) -> Int? {
        guard !text.isEmpty, !text.hasPrefix("-"), !text.contains("e"), !text.contains("E") else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int(parts[0]), parts[0].count <= 9 else { return nil }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard parts[0].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), fraction.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              parts.count == 1 || !fraction.isEmpty else { return nil }
        while fraction.count > 2 && fraction.hasSuffix("0") { fraction.removeLast() }
        guard fraction.count <= 2, let cents = fraction.isEmpty ? 0 : Int(fraction.padding(toLength: 2, withPad: "0", startingAt: 0))
        else { return nil }
        return whole * 100 + cents
    }

    /// The JSON number text for hundredths: 14500 → `145`, 1250 → `12.5`, 1234 → `12.34`.
    static func jsonNumber(hundredths value: Int64) -> String {
        let whole = value / 100, cents = value % 100
        if cents == 0 { return String(whole) }
        if cents % 10 == 0 { return "\(whole).\(cents / 10)" }
        return "\(whole).\(cents < 10 ? "0" : "")\(cents)"
    }
}
