/// A statement prepared on the server under a generated name, as the connection's cache records it.
struct PGPreparedStatement: Hashable {
    /// The server-side name (`tt_1`, `tt_2`, ...), unique for the life of the connection.
    let name: String
    /// The number of parameters the server says the statement takes.
    let parameterCount: Int
}
