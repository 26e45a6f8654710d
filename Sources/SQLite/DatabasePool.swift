import Foundation

/// One writer and N read-only connections over a WAL database; readers never wait for the writer.
///
/// `@unchecked Sendable` is safe because every mutable field (the idle reader list, the
/// writer's owner, the borrow count, `isClosed`) is read and written only while `condition`
/// is locked, and a `SQLiteConnection` is handed to exactly one thread at a time: it is taken out
/// of the shared state under the lock and put back under the lock when the body returns.
/// NSCondition rather than `Mutex` because ThreadSanitizer reports false races on `Mutex` on Linux.
public final class DatabasePool: @unchecked Sendable {
    public let configuration: DatabaseConfiguration
    private let condition = NSCondition()
    private let writer: SQLiteConnection
    private var writerOwner: pthread_t?
    private var allReaders: [SQLiteConnection]
    private var idleReaders: [SQLiteConnection]
    private var borrowedReaders = 0
    private var isClosed = false
    private var checkpointer: WALCheckpointer?

    /// Opens the writer (creating the file), switches it to WAL and applies the pragmas,
    /// then opens the readers eagerly so a bad path or permission fails at start.
    public init(_ configuration: DatabaseConfiguration) throws {
        guard configuration.readerCount > 0 else {
            throw SQLiteError.misuse("a database pool needs at least one reader (readerCount is \(configuration.readerCount))")
        }
        self.configuration = configuration
        let timeout = configuration.busyTimeoutMilliseconds
        writer = try SQLiteConnection(path: configuration.path, flags: [.readWrite, .create, .noMutex], busyTimeoutMilliseconds: timeout)
        var readers: [SQLiteConnection] = []
        do {
            try DatabasePool.configureWriter(writer, configuration)
            for _ in 0..<configuration.readerCount {
                let reader = try SQLiteConnection(path: configuration.path, flags: [.readOnly, .noMutex], busyTimeoutMilliseconds: timeout)
                // Belt and braces with the read-only open: also refuses writes to attached or temp databases.
                try reader.execute("PRAGMA query_only = ON")
                readers.append(reader)
            }
            allReaders = readers
            idleReaders = readers
            if let frames = configuration.checkpointFrames {
                let checkpointer = try WALCheckpointer(path: configuration.path, busyTimeoutMilliseconds: timeout,
                                                       thresholdFrames: frames, limitFrames: 2 * frames)
                checkpointer.watch(writer)
                self.checkpointer = checkpointer
            }
        } catch {
            for reader in readers { reader.close() }
            writer.close()
            throw error
        }
    }

    private static func configureWriter(_ writer: SQLiteConnection, _ configuration: DatabaseConfiguration) throws {
        // journal_mode answers with the mode actually in force; an in-memory database, for one, stays "memory".
        let mode = try writer.scalar("PRAGMA journal_mode = WAL")
        guard case .text(let name)? = mode, name.lowercased() == "wal" else {
            throw SQLiteError(code: 1, message: "cannot switch \(configuration.path) to WAL mode (got \(mode?.description ?? "nothing"))")
        }
        try writer.execute("PRAGMA foreign_keys = ON")
        try writer.execute("PRAGMA synchronous = \(configuration.synchronous.rawValue.uppercased())")
        // Group commit runs each write in its own SAVEPOINT, which copies every page the write touches into the
        // statement journal. With temp files on disk that journal spills to a temporary file past 64 KiB ("etilqs_*":
        // an open, pwrites and an unlink per transaction on the writer's thread); in memory it is a buffer that
        // RELEASE truncates. Temporary tables and sorts of the writer live in memory too, bounded by its cache.
        try writer.execute("PRAGMA temp_store = MEMORY")
    }

    deinit {
        close()
    }

    /// Borrows an idle reader for the duration of `body`, waiting while all are in use.
    /// Each statement sees the last committed state; wrap several reads in
    /// `db.transaction(.deferred)` to see one consistent snapshot.
    public func read<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        let reader = try borrowReader()
        defer { giveBack(reader) }
        return try body(reader)
    }

    /// A reader taken out of the pool until `release()`: for a read that spans several threads in turn (a streamed
    /// export opens its snapshot on one thread and reads the rest of it on another). Not for concurrent use.
    public final class ReaderLease: @unchecked Sendable {
        // `@unchecked Sendable`: the lease hands one connection from thread to thread; the holder uses it from one
        // thread at a time, and `release` returns it to the pool exactly once (guarded by `lock`).
        public let connection: SQLiteConnection
        private let pool: DatabasePool
        private let lock = NSLock()
        private var released = false

        fileprivate init(connection: SQLiteConnection, pool: DatabasePool) {
            self.connection = connection
            self.pool = pool
        }

        /// Ends any transaction the holder left open and gives the reader back. Later calls do nothing.
        public func release() {
            lock.lock()
            let first = !released
            released = true
            lock.unlock()
            if first { pool.giveBack(connection) }
        }

        deinit { release() }
    }

    /// Borrows a reader until the lease is released, waiting while all are in use.
    public func leaseReader() throws -> ReaderLease {
        ReaderLease(connection: try borrowReader(), pool: self)
    }

    /// Exclusive use of the writer inside `BEGIN IMMEDIATE ... COMMIT`; rolls back when `body` throws.
    public func write<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try withWriter { db in
            try db.transaction(.immediate) { try body(db) }
        }
    }

    /// Exclusive use of the writer with no implicit transaction (migrations, pragmas, group commit).
    /// Calls are serialised; calling it again from inside `body` is a programming error
    /// (it would deadlock), so that is trapped.
    public func withWriter<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try acquireWriter()
        defer { releaseWriter() }
        return try body(writer)
    }

    /// Readiness probe: true when the pool is open and the writer can take the write lock.
    /// It queues behind a write in progress, like any other writer.
    public func isWritable() -> Bool {
        do {
            return try withWriter { db in
                try db.execute("BEGIN IMMEDIATE; ROLLBACK")
                return true
            }
        } catch {
            return false
        }
    }

    /// How many statements each connection caches (readers first, the writer last), once all are idle.
    /// For tests that check the caches stay bounded.
    public func cachedStatementCounts() -> [Int] {
        condition.lock()
        defer { condition.unlock() }
        while !isClosed && (borrowedReaders > 0 || writerOwner != nil) { condition.wait() }
        return allReaders.map(\.cachedStatementCount) + [writer.cachedStatementCount]
    }

    /// Waits for borrowed connections to come back, then closes them all (writer last, so
    /// it checkpoints the WAL into the main file). Idempotent; later calls throw "database is closed".
    /// Calling it from inside a `read` or `write` body would wait for itself forever.
    public func close() {
        condition.lock()
        defer { condition.unlock() }
        let alreadyClosed = isClosed
        isClosed = true
        condition.broadcast()
        while borrowedReaders > 0 || writerOwner != nil {
            condition.wait()
        }
        guard !alreadyClosed else { return }
        // Before the writer, whose close is the last one and checkpoints what is left.
        checkpointer?.stop()
        for reader in allReaders { reader.close() }
        idleReaders.removeAll()
        writer.close()
    }

    private func borrowReader() throws -> SQLiteConnection {
        condition.lock()
        defer { condition.unlock() }
        while !isClosed && idleReaders.isEmpty {
            condition.wait()
        }
        guard !isClosed, let reader = idleReaders.popLast() else { throw SQLiteError.closed() }
        borrowedReaders += 1
        return reader
    }

    fileprivate func giveBack(_ reader: SQLiteConnection) {
        // A body that began a transaction and threw must not leave the reader pinned to an old snapshot.
        if reader.isInTransaction { try? reader.execute("ROLLBACK") }
        condition.lock()
        defer { condition.unlock() }
        idleReaders.append(reader)
        borrowedReaders -= 1
        condition.broadcast()
    }

    private func acquireWriter() throws {
        let me = pthread_self()
        condition.lock()
        defer { condition.unlock() }
        if let owner = writerOwner, pthread_equal(owner, me) != 0 {
            preconditionFailure("DatabasePool.withWriter/write called re-entrantly on the same thread; use the SQLiteConnection you were given")
        }
        while !isClosed && writerOwner != nil {
            condition.wait()
        }
        guard !isClosed else { throw SQLiteError.closed() }
        writerOwner = me
    }

    private func releaseWriter() {
        condition.lock()
        defer { condition.unlock() }
        writerOwner = nil
        condition.broadcast()
    }
}
