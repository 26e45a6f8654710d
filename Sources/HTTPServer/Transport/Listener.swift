import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The listening socket: creation, binding and refusing clients past the connection limit.
enum Listener {
    static func bind(host: String, port: Int, backlog: Int32, logger: Logger) throws -> Int32 {
        guard (0...65535).contains(port) else { throw SystemError(call: "bind port \(port)", errno: EINVAL) }
        guard let address = SocketAddress(host: host, port: port) else { throw SystemError(call: "bind \(host)", errno: EINVAL) }
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        do {
            try SystemCalls.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            let bound = address.withSockAddr { Glibc.bind(fd, $0, $1) }
            guard bound == 0 else { throw SystemError(call: "bind \(host):\(port)", errno: errno) }
            guard listen(fd, backlog) == 0 else { throw SystemError(call: "listen", errno: errno) }
            try SystemCalls.setNonBlockingCloseOnExec(fd)
        } catch {
            SystemCalls.close(fd, logger: logger)
            throw error
        }
        return fd
    }

    static func localPort(_ fd: Int32) throws -> Int {
        var address = SocketAddress()
        guard address.fill({ getsockname(fd, $0, $1) }) == 0 else { throw SystemError(call: "getsockname", errno: errno) }
        return address.port
    }

    /// A short 503 and a close for a client past the connection limit (or arriving during shutdown).
    static func refuse(_ fd: Int32, shuttingDown: Bool, context: ServerContext) {
        let detail = shuttingDown ? "the server is shutting down" : "the server has too many open connections; retry shortly"
        var response = context.responder.standaloneResponse(for: .unavailable(detail, retryAfter: 1))
        for (name, value) in context.configuration.defaultHeaders { response.headers.add(name, value) }
        let bytes = response.serialized(version: .http11, keepAlive: false, headOnly: false, date: context.dateCache.current())
        _ = bytes.withUnsafeBytes { SystemCalls.send(fd, $0) }
        shutdown(fd, Int32(SHUT_WR))
        // Drop what the client already sent so the close is a FIN, not a reset that eats the 503.
        var scratch = [UInt8](repeating: 0, count: 4096)
        _ = read(fd, &scratch, scratch.count)
        SystemCalls.close(fd, logger: context.logger)
    }
}
