/// How `BEGIN` acquires locks (https://sqlite.org/lang_transaction.html).
public enum TransactionKind: String, Sendable {
    /// Takes locks only when first needed; a later write can fail with SQLITE_BUSY mid-transaction.
    case deferred = "DEFERRED"
    /// Takes the write lock at BEGIN, so a busy database is reported (and waited for) up front.
    case immediate = "IMMEDIATE"
    /// Like immediate; in WAL mode the two behave the same.
    case exclusive = "EXCLUSIVE"
}
