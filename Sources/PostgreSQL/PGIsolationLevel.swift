/// The isolation level a top-level transaction can ask for; the server default is read committed.
public enum PGIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    /// Failures come back as `isSerializationFailure`; the whole transaction must be retried.
    case serializable = "SERIALIZABLE"
}
