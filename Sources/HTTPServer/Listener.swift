import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The listening socket: creation, binding and refusing clients past the connection limit.
enum Listener {
    static func bind(host: String, port: Int, backlog: Int32) throws -> Int32 {
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        let family: Int32
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            family = AF_INET
        } else if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            family = AF_INET6
        } else if host == "localhost" {
            family = AF_INET
            _ = inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr)
        } else {
            throw SystemError(call: "bind \(host)", errno: EINVAL)
        }
        guard (0...65535).contains(port) else { throw SystemError(call: "bind port \(port)", errno: EINVAL) }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        SystemCalls.setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        let bound: Int32
        if family == AF_INET {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            bound = withUnsafePointer(to: &v4) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            bound = withUnsafePointer(to: &v6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard bound == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SystemError(call: "bind \(host):\(port)", errno: code)
        }
        guard listen(fd, backlog) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SystemError(call: "listen", errno: code)
        }
        SystemCalls.setNonBlockingCloseOnExec(fd)
        return fd
    }

    static func localPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        if Int32(storage.ss_family) == AF_INET6 {
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// A short 503 and a close for a client past the connection limit (or arriving during shutdown).
    static func refuse(_ fd: Int32, shuttingDown: Bool, context: ServerContext) {
        let detail = shuttingDown ? "the server is shutting down" : "the server has too many open connections; retry shortly"
        var response = HTTPError.unavailable(detail, retryAfter: 1).standaloneResponse()
        for (name, value) in context.configuration.defaultHeaders { response.headers.add(name, value) }
        let bytes = response.serialized(version: .http11, keepAlive: false, headOnly: false, date: context.dateCache.current())
        _ = bytes.withUnsafeBytes { SystemCalls.send(fd, $0) }
        shutdown(fd, Int32(SHUT_WR))
        // Drop what the client already sent so the close is a FIN, not a reset that eats the 503.
        var scratch = [UInt8](repeating: 0, count: 4096)
        _ = read(fd, &scratch, scratch.count)
        Glibc.close(fd)
    }
}
