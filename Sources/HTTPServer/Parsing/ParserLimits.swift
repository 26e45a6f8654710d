/// Size limits the request parser enforces.
public struct ParserLimits: Sendable, Equatable {
    /// Longest request line in bytes (414 past it).
    public var maxRequestLineBytes = 8 * 1024
    /// Largest header block in bytes, trailers included (431 past it).
    public var maxHeaderBytes = 16 * 1024
    /// Most header fields (431 past it).
    public var maxHeaderCount = 100
    /// Largest request body in bytes (413 past it).
    public var maxBodyBytes = 1024 * 1024

    public init() {}
}

/// Where the parser is, for timeouts: between requests, reading a head, or reading a body.
public enum ParserPhase: Sendable, Equatable {
    case idle, head, body
}
