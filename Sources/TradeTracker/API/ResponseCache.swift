import Foundation
import HTTPServer
import SQLite

/// Whole GET answers of the resource reads (one record, a list page), kept until the database changes, so a wall of
/// dashboards asking for the same page costs one query between commits instead of one per request.
///
/// Knowing when the database changed: SQLite's `PRAGMA data_version` on a connection moves whenever another
/// connection — our writer, another process (an import, the sqlite3 shell) — committed since that connection last
/// asked. Every lookup first asks it on the reader it runs on; a move bumps `generation`, which empties the cache.
/// An entry is stored under the generation read *before* its snapshot was taken, so it can only be older than a
/// commit that every later lookup has noticed: after a commit, each reader's next look sees its version moved.
///
/// The key is the resource, the request target and the day (records have fields computed from today); the answer
/// depends on nothing else of the request (the middleware around the handlers adds CORS, auth and metrics each time).
/// Bounded by entries and bytes; past either it starts over.
final class ResponseCache: @unchecked Sendable {
    struct Key: Hashable {
        let resource: String
        let target: String
        let day: Int
    }

    // All state is guarded by `lock`.
    private let lock = NSLock()
    private var generation: UInt64 = 0
    /// Each reader connection's data_version when it last looked.
    private var versions: [ObjectIdentifier: Int64] = [:]
    /// Answers of the current generation only: a new generation empties it.
    private var entries: [Key: HTTPResponse] = [:]
    private var bytes = 0
    let maxEntries: Int
    let maxBytes: Int
    /// Bodies larger than this are not kept (a 500-row page of long texts would crowd out everything else).
    let maxEntryBytes: Int

    init(maxEntries: Int = 1024, maxBytes: Int = 4 << 20, maxEntryBytes: Int = 256 << 10) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.maxEntryBytes = maxEntryBytes
    }

    /// The current generation as seen from `db`, a reader connection outside a transaction; nil (do not cache) if
    /// SQLite does not say, and always on PostgreSQL.
    func generation(_ db: some SQLExecutor) throws -> UInt64? {
        try lookup(nil, on: db).generation
    }

    /// The generation as seen from `db` and the answer kept for `key`, under one lock.
    func lookup(_ key: Key?, on db: some SQLExecutor) throws -> (generation: UInt64?, hit: HTTPResponse?) {
        // PostgreSQL has no data_version, and the NOTIFY of another instance's commit arrives after that commit: an
        // answer kept until then would show a change already acknowledged to its writer as not there yet. So on
        // PostgreSQL every read asks the database (the change feed is what LISTEN/NOTIFY wakes).
        guard db.dialect.engine == .sqlite, case .integer(let version)? = try db.scalar("PRAGMA data_version") else { return (nil, nil) }
        let id = ObjectIdentifier(db)
        lock.lock()
        defer { lock.unlock() }
        noteVersion(version, of: id)
        return (generation, key.flatMap { entries[$0] })
    }

    /// Must hold `lock`.
    private func noteVersion(_ version: Int64, of id: ObjectIdentifier) {
        if versions[id] != version {
            // A connection seen for the first time may have missed commits too.
            versions[id] = version
            generation &+= 1
            entries.removeAll(keepingCapacity: true)
            bytes = 0
        }
    }

    func get(_ key: Key, generation: UInt64) -> HTTPResponse? {
        lock.lock()
        defer { lock.unlock() }
        return generation == self.generation ? entries[key] : nil
    }

    func put(_ key: Key, generation: UInt64, _ response: HTTPResponse) {
        let size = response.body.count + key.target.utf8.count
        guard size <= maxEntryBytes else { return }
        lock.lock()
        defer { lock.unlock() }
        // A commit noticed meanwhile: the answer may predate it.
        guard generation == self.generation else { return }
        if entries.count >= maxEntries || bytes + size > maxBytes {
            entries.removeAll(keepingCapacity: true)
            bytes = 0
        }
        if let old = entries.updateValue(response, forKey: key) {
            bytes -= old.body.count + key.target.utf8.count
        }
        bytes += size
    }

    /// How many answers are kept (tests).
    var count: Int {
        lock.lock(); defer { lock.unlock() }
        return entries.count
    }
}

extension APIContext {
    /// A GET answer from the response cache, or `build`'s on the same reader (stored, with its ETag, when a 200).
    /// `today` is the day the answer's computed fields are for.
    func cachedRead(_ request: HTTPRequest, resource: String, today: CalendarDate,
                    build: (any SQLExecutor) throws -> HTTPResponse) throws -> HTTPResponse {
        let key = ResponseCache.Key(resource: resource, target: request.target, day: today.daysSinceEpoch)
        return try read { db in
            let (generation, hit) = try responses.lookup(key, on: db)
            if let hit { return hit }
            var response = try build(db)
            guard let generation, response.status == 200, !response.isDeferredOrStreamed else { return response }
            if !response.headers.contains("ETag") { response.headers.add("ETag", EntityTag.strong(for: response.body)) }
            responses.put(key, generation: generation, response)
            return response
        }
    }
}
