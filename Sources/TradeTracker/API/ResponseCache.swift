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

    /// A SQLite file's wal-index header: looked at instead of asking a reader for `data_version` (see `lookup`).
    private let walIndex: WALIndexHeader?
    /// The header as the last lookup saw it (guarded by `lock`).
    private var lastStamp: WALIndexHeader.Stamp?

    init(walIndex: WALIndexHeader? = nil, maxEntries: Int = 1024, maxBytes: Int = 4 << 20, maxEntryBytes: Int = 256 << 10) {
        self.walIndex = walIndex
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.maxEntryBytes = maxEntryBytes
    }

    /// The current generation as seen from `db`, a reader connection outside a transaction; nil (do not cache) if
    /// SQLite does not say, and always on PostgreSQL.
    func generation(_ db: some SQLExecutor) throws -> UInt64? {
        try lookup(nil, on: db).generation
    }

    /// The cache for `database`: on a SQLite file it watches the wal-index header (nil header, for an in-memory
    /// database or another journal mode: `data_version` on each reader).
    static func forDatabase(_ database: Database) -> ResponseCache {
        ResponseCache(walIndex: database.sqlitePool.flatMap { WALIndexHeader(path: $0.configuration.path) })
    }

    /// Without a reader: the generation and the answer kept for `key`, from the wal-index header, which every
    /// commit of any connection or process rewrites. Reading it is a few loads of shared memory, where
    /// `PRAGMA data_version` is a statement, a read transaction and SQLite's shared-memory mutex (which the event
    /// loops' readers then contend for on every request). A header caught mid-rewrite counts as a change and the
    /// answer is not kept. Nil when there is no header to watch.
    func lookupWithoutReader(_ key: Key?) -> (generation: UInt64?, hit: HTTPResponse?)? {
        guard let walIndex else { return nil }
        let stamp = walIndex.stamp()
        lock.lock()
        defer { lock.unlock() }
        guard let stamp else {
            startOver()
            return (nil, nil)
        }
        if stamp != lastStamp {
            lastStamp = stamp
            startOver()
        }
        return (generation, key.flatMap { entries[$0] })
    }

    /// A new generation, empty. Must hold `lock`.
    private func startOver() {
        generation &+= 1
        entries.removeAll(keepingCapacity: true)
        bytes = 0
    }

    /// The generation as seen from `db` and the answer kept for `key`, under one lock.
    func lookup(_ key: Key?, on db: some SQLExecutor) throws -> (generation: UInt64?, hit: HTTPResponse?) {
        if let answer = lookupWithoutReader(key) { return answer }
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
            startOver()
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

    /// Whether commits are noticed from the wal-index header rather than each reader's `data_version` (tests).
    var watchesWALIndex: Bool { walIndex != nil }

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
        // A SQLite file: a hit needs no reader at all. The generation is read before the reader's snapshot, so an
        // answer built on a newer snapshot is only ever kept under an older generation, never the reverse.
        if let (generation, hit) = responses.lookupWithoutReader(key) {
            if let hit { return hit }
            return try read { db in keep(try build(db), key: key, generation: generation) }
        }
        return try read { db in
            let (generation, hit) = try responses.lookup(key, on: db)
            if let hit { return hit }
            return keep(try build(db), key: key, generation: generation)
        }
    }

    /// `response`, kept in the cache under `generation` when it is a whole 200 (with its ETag).
    private func keep(_ response: HTTPResponse, key: ResponseCache.Key, generation: UInt64?) -> HTTPResponse {
        var response = response
        guard let generation, response.status == 200, !response.isDeferredOrStreamed else { return response }
        if !response.headers.contains("ETag") { response.headers.add("ETag", EntityTag.strong(for: response.body)) }
        responses.put(key, generation: generation, response)
        return response
    }
}
