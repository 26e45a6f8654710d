/// How created records reach the full-text index (migration 0006): an insert trigger notes the record in
/// `search_pending`, and deleting the notes, the last statement of every write transaction, indexes them all in
/// one statement, so FTS5 writes one segment per transaction instead of one per record.
enum SearchIndex {
    /// Runs before each COMMIT of the writer, and once at open for notes another program committed.
    static let flushSQL = "DELETE FROM search_pending"
}
