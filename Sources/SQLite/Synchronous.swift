/// `PRAGMA synchronous` levels (https://sqlite.org/pragma.html#pragma_synchronous).
public enum Synchronous: String, Sendable, CaseIterable {
    /// No fsync at all: fast, but a power loss can corrupt the database.
    case off
    /// In WAL mode: never corrupts, but the last commits before a power loss may be lost.
    case normal
    /// fsync on every commit: an acknowledged write survives power loss.
    case full
    case extra
}
