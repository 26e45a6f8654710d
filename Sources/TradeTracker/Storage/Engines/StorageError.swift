import Foundation
import PostgreSQL
import SQLite

/// A storage failure from either engine, sorted into what the API answers for it (`StorageErrors.problem`), with
/// the engine's own words kept for the log. Repositories written over `SQLExecutor` see only this.
struct StorageError: Error, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// Another record holds the value; `column` when the engine names it (409).
        case uniqueViolation(column: String?)
        /// A CHECK, foreign key, NOT NULL or trigger rule refused what validation let through (422).
        case constraintViolation
        /// Busy or closed: retry shortly (503).
        case unavailable
        /// The database server cannot be reached or is going away (PostgreSQL): retry shortly (503).
        case unreachable
        /// A foreign key refused the write: a referenced record vanished (insert, update) or a new referrer
        /// appeared (delete) after the repository's own check, in another instance's transaction.
        case foreignKeyViolation(detail: String?)
        /// A write tried on a read-only connection or transaction (a reader, the dry run of `WriteService`).
        case readOnly
        /// PostgreSQL gave up the transaction to let another go on (40001, 40P01): running it again may succeed.
        case serializationFailure
        /// Disk full, read-only storage, an I/O error: writes cannot go on, reads may (503).
        case storageFault
        case other
    }

    let kind: Kind
    /// The engine's error, for logs; never for clients.
    let underlying: any Error & CustomStringConvertible & Sendable

    var description: String { "\(underlying)" }

    init(_ error: SQLiteError) {
        underlying = error
        // The order matters: a unique violation is also a constraint violation.
        if error.isUniqueViolation {
            // "UNIQUE constraint failed: negotiations.slug"
            kind = .uniqueViolation(column: error.message.split(separator: ".").last.map(String.init))
        } else if error.isReadOnly {
            kind = .readOnly
        } else if error.isBusy || error.isClosed {
            kind = .unavailable
        } else if error.isStorageFault {
            kind = .storageFault
        } else if error.isConstraintViolation {
            kind = .constraintViolation
        } else {
            kind = .other
        }
    }

    init(_ error: PGError) {
        underlying = error
        if error.isUniqueViolation {
            kind = .uniqueViolation(column: error.column ?? StorageError.keyColumns(error.detail))
        } else if error.isSerializationFailure || error.isDeadlock {
            kind = .serializationFailure
        } else if error.isServerGone {
            kind = .unreachable
        } else if error.isUnavailable || error.isClosed || error.kind == .timeout {
            kind = .unavailable
        } else if error.isReadOnly {
            // 25006: a read-only transaction (or a hot standby).
            kind = .readOnly
        } else if error.isDiskFull || error.sqlStateClass == "58" {
            // 58: the server's system or I/O errors.
            kind = .storageFault
        } else if error.isForeignKeyViolation {
            kind = .foreignKeyViolation(detail: error.detail)
        } else if error.sqlStateClass == "23" {
            kind = .constraintViolation
        } else {
            kind = .other
        }
    }

    /// Either wrapper's error (or a StorageError already) sorted; nil for any other error (a Problem).
    init?(sorting error: any Error) {
        switch error {
        case let error as StorageError: self = error
        case let error as SQLiteError: self.init(error)
        case let error as PGError: self.init(error)
        default: return nil
        }
    }

    /// Runs `body`, turning either wrapper's error into a StorageError; any other error (a Problem thrown inside a
    /// transaction's body) passes through as it is.
    static func translating<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SQLiteError {
            throw StorageError(error)
        } catch let error as PGError {
            throw StorageError(error)
        }
    }

    /// `translating` for a body that only talks to the database, so that every failure is a StorageError.
    static func only<T>(_ body: () throws -> T) throws(StorageError) -> T {
        do {
            return try translating(body)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(unexpected: error)
        }
    }

    /// Neither wrapper's error: nothing the API can name, so a 500 that the log explains.
    init(unexpected error: any Error) {
        underlying = UnexpectedError(description: "\(error)")
        kind = .other
    }

    private struct UnexpectedError: Error, CustomStringConvertible {
        let description: String
    }

    /// The columns of a unique violation's detail: `Key (slug)=(x) already exists.` -> `slug`,
    /// `Key (negotiation_id, sequence)=(1, 2) ...` -> `sequence` (the last, as SQLite's message gives it).
    static func keyColumns(_ detail: String?) -> String? {
        guard let detail, detail.hasPrefix("Key ("), let close = detail.firstIndex(of: ")") else { return nil }
        let columns = detail[detail.index(detail.startIndex, offsetBy: 5)..<close]
        return columns.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
