/// Who makes a write and under which request; stamped on the change-log rows written with it. Knows nothing of
/// HTTP: routes, the demo loader, batches and imports all make one.
struct WriteContext: Sendable {
    var actor: String?
    var requestID: String?
    var now: String
    var today: CalendarDate
    /// The client's Idempotency-Key, when it sent one.
    var idempotency: IdempotencyClaim? = nil
}

/// An Idempotency-Key and what it must be replayed for: the caller's scope and a fingerprint of the request.
struct IdempotencyClaim: Sendable {
    /// The token name ('' for an anonymous client): two clients may use the same key.
    let scope: String
    let key: String
    /// A hash of the method, path and body: the same key with another request is a 422.
    let fingerprint: String
    let method: String
    let path: String
}
