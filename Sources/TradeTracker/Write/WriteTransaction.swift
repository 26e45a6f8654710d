import SQLite

/// One write running on the writer connection: the connection, who writes, and what may happen only once the
/// commit is durable (filling caches, waking the feed). Nothing of a write is visible outside the database before
/// its COMMIT succeeds; if it fails, the actions are dropped with the transaction.
final class WriteTransaction {
    let db: any SQLExecutor
    let context: WriteContext
    private(set) var afterCommit: [@Sendable () -> Void] = []
    /// Explicit ids inserted where that does not raise the id counter (PostgreSQL), by table: the writer raises the
    /// counters just before COMMIT, so that only a committed write retires ids.
    var explicitIDs: [String: Int64] = [:]
    /// Set by an import: references to records that may still come later in its input.
    var pendingReferences: PendingReferences?

    init(db: any SQLExecutor, context: WriteContext) {
        self.db = db
        self.context = context
    }

    /// Runs `action` after the commit, in order, only if the commit succeeds.
    func onCommit(_ action: @escaping @Sendable () -> Void) {
        afterCommit.append(action)
    }
}
