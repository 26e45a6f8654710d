import Foundation
import SQLite

/// The JSON of records as last encoded, keyed by resource, id and version (and the day, for records with fields
/// computed from today). Every change bumps `version`, so an entry can never be stale; lists and reads copy
/// cached bytes instead of encoding rows again. Bounded: when full it starts over.
final class RecordCache: @unchecked Sendable {
    struct Key: Hashable {
        let table: String
        let id: Int64
        let version: Int64
        let day: Int
    }

    // `entries` is guarded by `lock`.
    private let lock = NSLock()
    private var entries: [Key: [UInt8]] = [:]
    let capacity: Int

    init(capacity: Int = 20_000) { self.capacity = capacity }

    static func key(spec: ResourceSpec, id: Int64, version: Int64, today: CalendarDate) -> Key {
        Key(table: spec.table, id: id, version: version, day: spec.computed.isEmpty ? 0 : today.daysSinceEpoch)
    }

    func get(_ key: Key) -> [UInt8]? {
        lock.lock(); defer { lock.unlock() }
        return entries[key]
    }

    func put(_ key: Key, _ bytes: [UInt8]) {
        lock.lock(); defer { lock.unlock() }
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = bytes
    }

    /// The record's JSON from the cache, or encoded from `row` without remembering it: for rows read inside a write
    /// transaction, which may still roll back.
    func encoded(_ row: Row, spec: ResourceSpec, today: CalendarDate) -> [UInt8] {
        if let id = row.int("id"), let version = row.int("version"),
           let cached = get(Self.key(spec: spec, id: id, version: version, today: today)) {
            return cached
        }
        return RecordEncoder.encode(row, spec: spec, today: today)
    }

    /// The record's JSON from the cache, or encoded from `row` and remembered. Only for committed rows (reads).
    func json(for row: Row, spec: ResourceSpec, today: CalendarDate) -> [UInt8] {
        guard let id = row.int("id"), let version = row.int("version") else {
            return RecordEncoder.encode(row, spec: spec, today: today)
        }
        let key = Self.key(spec: spec, id: id, version: version, today: today)
        if let cached = get(key) { return cached }
        let bytes = RecordEncoder.encode(row, spec: spec, today: today)
        put(key, bytes)
        return bytes
    }
}
