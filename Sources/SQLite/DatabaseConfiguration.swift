/// How a `DatabasePool` opens and tunes its connections.
public struct DatabaseConfiguration: Sendable {
    /// File path of the database; its directory must already exist.
    public var path: String
    /// Number of read-only connections; reads beyond this many wait for one to be free.
    public var readerCount: Int
    public var synchronous: Synchronous
    public var busyTimeoutMilliseconds: Int32
    /// WAL frames past which a thread of the pool checkpoints, off the writer's commit path (see `WALCheckpointer`);
    /// twice as many make the writer checkpoint what is left itself. nil: SQLite's automatic checkpoint in the writer's COMMIT.
    public var checkpointFrames: Int?

    public init(path: String, readerCount: Int = 4, synchronous: Synchronous = .full, busyTimeoutMilliseconds: Int32 = 5000,
                checkpointFrames: Int? = 1000) {
        self.path = path
        self.checkpointFrames = checkpointFrames
        self.readerCount = readerCount
        self.synchronous = synchronous
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
    }
}
