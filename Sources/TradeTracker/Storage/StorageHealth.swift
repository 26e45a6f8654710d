import Foundation
import HTTPServer
import SQLite

/// Whether the database can take writes now. A storage fault (disk full, read-only, I/O error) seen by a write marks
/// it unhealthy until a later write succeeds; a database file that was deleted or replaced under the running server
/// (the path no longer names the file it has open) makes it unhealthy until that is undone. `/readyz` reports it,
/// writes are refused with 503 `storage_unavailable` meanwhile, and each state change is logged once.
final class StorageHealth: @unchecked Sendable {
    let path: String
    private let logger: Logger
    /// Device and inode of the file opened at start.
    private let identity: (device: UInt64, inode: UInt64)?

    // `fault` and `fileWarning` are guarded by `lock`.
    private let lock = NSLock()
    private var fault: String?
    private var fileWarning: String?

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
        identity = Self.identity(of: path)
    }

    private static func identity(of path: String) -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// Why writes cannot succeed now, or nil when the storage looks healthy.
    var problem: String? {
        if let file = fileProblem() { return file }
        lock.lock(); defer { lock.unlock() }
        return fault
    }

    /// The database path no longer names the open file (deleted, or replaced by another file): writes would go to a
    /// file nobody can find again.
    func fileProblem() -> String? {
        guard let identity, path != ":memory:" else { return nil }
        let now = Self.identity(of: path)
        let problem: String? = switch now {
        case nil: "the database file \(path) was deleted while the server was running"
        case let current? where current.device != identity.device || current.inode != identity.inode:
            "the database file \(path) was replaced while the server was running"
        default: nil
        }
        lock.lock()
        let changed = problem != fileWarning
        fileWarning = problem
        lock.unlock()
        if changed {
            if let problem {
                logger.error("\(problem); writes are refused (503) and /readyz reports not ready until the file is back or the server restarts")
            } else {
                logger.info("the database file \(path) is the open file again; writes are accepted")
            }
        }
        return problem
    }

    /// A write failed: a storage fault makes the storage unhealthy (logged on the change).
    func recordFailure(_ error: StorageError) {
        guard error.kind == .storageFault || error.kind == .readOnly else { return }
        let reason = "the database cannot be written: \((error.underlying as? SQLiteError).map(Self.describe) ?? "a storage error")"
        lock.lock()
        let changed = fault != reason
        fault = reason
        lock.unlock()
        if changed { logger.error("\(reason) (\(error)); writes get 503 until it clears") }
    }

    /// A write committed: whatever fault there was has cleared.
    func recordSuccess() {
        lock.lock()
        let was = fault
        fault = nil
        lock.unlock()
        if let was { logger.info("the database can be written again (it was: \(was))") }
    }

    private static func describe(_ error: SQLiteError) -> String {
        switch error.primaryCode {
        case 13: return "the disk is full"
        case 8: return "the database is read-only"
        case 10: return "an I/O error"
        case 14: return "the file cannot be opened"
        case 3: return "permission denied"
        case 11, 26: return "the file is damaged or not a database"
        default: return error.isCommitRefused ? "the commit was refused" : "a storage error"
        }
    }
}
