/// A bounded least-recently-used map from cache key to prepared statement. Pure bookkeeping:
/// the connection does the PREPARE and DEALLOCATE that insertion and eviction call for.
///
/// Eviction scans for the oldest use stamp, O(capacity). That only happens when a caller
/// builds SQL text dynamically, and a 128-entry scan costs far less than the DEALLOCATE
/// round trip that follows it, so a linked list would buy nothing measurable.
struct PGStatementCache {
    private struct Entry {
        let statement: PGPreparedStatement
        var lastUse: UInt64
    }

    let capacity: Int
    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0

    /// A capacity below 1 is raised to 1: every statement has to live somewhere while it runs.
    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.count }

    /// The statement under `key`, marked as the most recently used.
    mutating func statement(for key: String) -> PGPreparedStatement? {
        guard var entry = entries[key] else { return nil }
        clock += 1
        entry.lastUse = clock
        entries[key] = entry
        return entry.statement
    }

    /// Adds `statement` as the most recently used and returns the one it displaces: the
    /// previous statement under `key`, or the least recently used when the cache is full.
    mutating func insert(_ statement: PGPreparedStatement, for key: String) -> PGPreparedStatement? {
        var evicted = entries[key]?.statement
        if evicted == nil, entries.count >= capacity,
           let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            evicted = oldest.value.statement
            entries[oldest.key] = nil
        }
        clock += 1
        entries[key] = Entry(statement: statement, lastUse: clock)
        return evicted
    }

    mutating func remove(for key: String) -> PGPreparedStatement? {
        entries.removeValue(forKey: key)?.statement
    }

    /// Empties the cache and returns what it held.
    mutating func removeAll() -> [PGPreparedStatement] {
        defer { entries.removeAll() }
        return entries.values.map(\.statement)
    }
}
