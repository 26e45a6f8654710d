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
    /// Body limits of particular paths (the request target up to any `?`), in place of `maxBodyBytes`: an upload
    /// route may take more than the rest. A path spelt differently (percent-encoded) gets `maxBodyBytes`.
    public var maxBodyBytesByPath: [String: Int] = [:]

    public init() {}

    /// The body limit of a request to `target`.
    public func maxBodyBytes(forTarget target: String) -> Int {
        guard !maxBodyBytesByPath.isEmpty else { return maxBodyBytes }
        let path = target.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(target[..<$0]) } ?? target
        return maxBodyBytesByPath[path] ?? maxBodyBytes
    }
}

/// Where the parser is, for timeouts: between requests, reading a head, or reading a body.
public enum ParserPhase: Sendable, Equatable {
    case idle, head, body
}
