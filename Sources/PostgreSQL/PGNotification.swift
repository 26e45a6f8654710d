/// One `NOTIFY` delivered to a connection that `LISTEN`s on its channel.
public struct PGNotification: Sendable, Hashable {
    public let channel: String
    /// The payload given to `NOTIFY` / `pg_notify`; empty when there was none.
    public let payload: String
    /// The server process that sent it (a connection's own `backendProcessID` for its own notifications).
    public let processID: Int32

    public init(channel: String, payload: String, processID: Int32) {
        self.channel = channel
        self.payload = payload
        self.processID = processID
    }
}
