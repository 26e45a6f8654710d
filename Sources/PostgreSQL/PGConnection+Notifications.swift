import CPostgreSQL

extension PGConnection {
    /// Starts receiving NOTIFYs on `channel`. The name is quoted, so it is case-sensitive and
    /// matches `notify(channel)` / `pg_notify` exactly. Kept across `reset()`.
    public func listen(_ channel: String) throws {
        try execute("LISTEN \(try checkedChannel(channel))")
        listenedChannels.insert(channel)
    }

    public func unlisten(_ channel: String) throws {
        try execute("UNLISTEN \(try checkedChannel(channel))")
        listenedChannels.remove(channel)
    }

    /// Stops listening on every channel (the pool calls it before lending the connection again).
    public func unlistenAll() throws {
        // Forgotten even when UNLISTEN fails: a reset must not bring the channels back.
        listenedChannels.removeAll()
        try execute("UNLISTEN *")
    }

    /// The channels this connection LISTENs on.
    public var channels: Set<String> { listenedChannels }

    /// Sends a notification (`SELECT pg_notify($1, $2)`). Inside a transaction it is delivered
    /// at COMMIT, and not at all on ROLLBACK. The payload must be shorter than 8000 bytes.
    public func notify(_ channel: String, payload: String = "") throws {
        _ = try query("SELECT pg_notify($1, $2)", [.text(try checkedChannel(channel, quoted: false)), .text(payload)])
    }

    /// Reads whatever has arrived on the socket without blocking (`PQconsumeInput`) and returns
    /// the notifications received so far, oldest first. Queries also collect notifications, so
    /// some may be waiting even when the socket is quiet.
    public func notifications() throws -> [PGNotification] {
        let handle = try live()
        guard libpq.PQconsumeInput(handle) == 1 else {
            throw PGError.from(result: nil, connection: handle, sql: nil, conninfo: conninfo)
        }
        var received: [PGNotification] = []
        while let notify = libpq.PQnotifies(handle) {
            received.append(PGNotification(
                channel: String(cString: notify.pointee.relname),
                payload: notify.pointee.extra.map { String(cString: $0) } ?? "",
                processID: notify.pointee.be_pid
            ))
            libpq.PQfreemem(notify)
        }
        return received
    }

    /// Blocks this thread until at least one notification arrives or `timeout` passes
    /// (then it returns an empty array). Throws when the connection is lost meanwhile.
    public func waitForNotifications(timeout: Duration) throws -> [PGNotification] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let received = try notifications()
            if !received.isEmpty { return received }
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else { return [] }
            _ = PGSocketPoll.waitReadable(socketDescriptor, timeout: remaining)
        }
    }

    /// Channel names are identifiers: at most 63 bytes (NAMEDATALEN - 1), or LISTEN would
    /// silently truncate them and never hear a `pg_notify` sent to the full name.
    private func checkedChannel(_ channel: String, quoted: Bool = true) throws -> String {
        guard !channel.isEmpty, channel.utf8.count <= 63, !channel.utf8.contains(0) else {
            throw PGError.misuse("a channel name needs 1 to 63 bytes and no NUL, got \"\(channel)\"")
        }
        return quoted ? try quotedIdentifier(channel) : channel
    }
}
