#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An errno captured where a system call failed.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public let call: String
    public let errno: Int32
    public var description: String { "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Thin wrappers that retry on EINTR and turn -1 into a `SystemError`; none of them ignores a result.
enum SystemCalls {
    @inline(__always)
    static func retrying<T: BinaryInteger>(_ name: String, _ body: () -> T) -> Result<T, SystemError> {
        while true {
            let result = body()
            if result >= 0 { return .success(result) }
            let code = errno
            if code == EINTR { continue }
            return .failure(SystemError(call: name, errno: code))
        }
    }

    /// `O_NONBLOCK` on the file status flags and `FD_CLOEXEC` on the descriptor flags.
    static func setNonBlockingCloseOnExec(_ fd: Int32) throws(SystemError) {
        let flags = try retrying("fcntl(F_GETFL)", { fcntl(fd, F_GETFL) }).get()
        _ = try retrying("fcntl(F_SETFL)", { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }).get()
        let fdFlags = try retrying("fcntl(F_GETFD)", { fcntl(fd, F_GETFD) }).get()
        _ = try retrying("fcntl(F_SETFD)", { fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC) }).get()
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws(SystemError) {
        var v = value
        _ = try retrying("setsockopt(\(label))", { setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }).get()
    }

    /// Closes `fd`. EINTR is not retried (Linux has released the descriptor already); EBADF means a descriptor
    /// was closed twice or never owned, which is a bug worth a log line, not silence.
    static func close(_ fd: Int32, logger: Logger) {
        guard Glibc.close(fd) != 0 else { return }
        let code = errno
        if code == EINTR { return }
        logger.error("bug: close(\(fd)) failed: \(String(cString: strerror(code))) (errno \(code))")
    }

    /// Sends as much as the socket takes; returns the count sent, 0 on EAGAIN, or an error (EPIPE, ECONNRESET …).
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, SystemError> {
        switch retrying("send", { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }) {
        case .success(let n): return .success(n)
        case .failure(let e) where e.errno == EAGAIN || e.errno == EWOULDBLOCK: return .success(0)
        case .failure(let e): return .failure(e)
        }
    }
}
