/// Where a `PGError` came from, for the cases a SQLSTATE cannot tell apart.
public enum PGErrorKind: Sendable, Hashable {
    /// The server rejected the command; `sqlState` says why.
    case server
    /// No connection could be made, or the one there was is lost (its status is CONNECTION_BAD
    /// or libpq returned no result). The server may still have sent a SQLSTATE, e.g. 57P01.
    case connection
    /// The wrapper refused the call before sending it: a wrong parameter count, NUL in text,
    /// several statements where one is expected. Always a bug in the caller.
    case misuse
    /// The connection or pool has been closed.
    case closed
    /// A pool borrow waited longer than the pool's borrow timeout.
    case timeout
}
