import CSQLite

/// Whether anyone committed to a WAL database, asked without a statement or a lock: the wal-index header, which
/// every commit rewrites (its change counter goes up, the last frame moves), read from SQLite's own shared-memory
/// mapping of it — the same bytes and the same read protocol SQLite's readers use before they take a read lock.
///
/// This is what lets a response cache check for commits (by this process or any other) on every request without
/// starting a read transaction: that costs a statement step and the shared-memory mutex every connection to the
/// file takes, which two event loops then contend for. A header that cannot be read consistently (a writer
/// between its two copies) reads as nil, which a caller must take as "changed".
///
/// `@unchecked Sendable`: the connection is only kept open (the mapping is its); reads of the header are plain
/// loads of shared memory, safe from any thread.
public final class WALIndexHeader: @unchecked Sendable {
    /// The header's 48 bytes.
    public struct Stamp: Equatable, Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)

        public static func == (a: Stamp, b: Stamp) -> Bool { a.words == b.words }
    }

    private let connection: SQLiteConnection
    private let index: UnsafePointer<UInt8>

    /// On a connection of its own to `path`, which must already be in WAL mode; nil when the header is not mapped
    /// (another journal mode, an in-memory database, a VFS without shared memory).
    public init?(path: String) {
        guard let connection = try? SQLiteConnection(path: path, flags: [.readOnly, .noMutex]),
              // A first read opens the WAL and maps its index for this connection.
              (try? connection.scalar("PRAGMA data_version")) != nil,
              let handle = connection.rawHandle,
              let index = csqlite_wal_index(handle) else { return nil }
        self.connection = connection
        self.index = index
    }

    /// The header now, or nil while it is being rewritten.
    public func stamp() -> Stamp? {
        var stamp = Stamp()
        let consistent = withUnsafeMutableBytes(of: &stamp.words) { out in
            csqlite_wal_index_header(index, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return consistent == 1 ? stamp : nil
    }
}
