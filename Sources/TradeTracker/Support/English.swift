/// Small pieces of English for messages people read.
enum English {
    /// `word` with its indefinite article: "a round", "an issue", "an export control", "an in_progress round".
    static func withArticle(_ word: some StringProtocol) -> String {
        guard let first = word.first?.lowercased() else { return String(word) }
        return ("aeiou".contains(first) ? "an " : "a ") + word
    }

    /// `1 row`, `2 rows`.
    static func count(_ n: Int, _ noun: String) -> String {
        "\(n) \(noun)\(n == 1 ? "" : "s")"
    }
}
