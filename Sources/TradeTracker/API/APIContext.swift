import HTTPServer
import SQLite

/// The authenticated caller, attached by the auth middleware.
struct Principal: Sendable {
    enum Scope: Int, Sendable, Comparable {
        case read, write, admin
        static func < (a: Scope, b: Scope) -> Bool { a.rawValue < b.rawValue }
    }

    let name: String
    let scope: Scope
}

enum PrincipalKey: RequestAttributeKey {
    typealias Value = Principal
}

/// What every handler of the product shares.
struct APIContext: Sendable {
    let pool: DatabasePool
    let clock: Clock
    let signer: CursorSigner
    let requireIfMatch: Bool
    let idempotency: IdempotencyStore
    let logger: Logger
    /// Told the change log's newest seq after every commit (the change feed and /v1/status listen).
    let changes: ChangeSignal
    /// Encoded records, reused by lists and reads.
    let records = RecordCache()

    func writeContext(_ request: HTTPRequest) -> WriteContext {
        WriteContext(actor: request.attributes[PrincipalKey.self]?.name, requestID: request.requestID,
                     now: clock.now(), today: clock.today())
    }

    /// Runs `body` in the writer's transaction; storage failures become precise problems.
    func write<T>(_ body: (SQLite.Connection) throws -> T) throws -> T {
        let (result, seq): (T, Int64)
        do {
            (result, seq) = try pool.write { db in (try body(db), try ChangeSignal.newestSeq(db)) }
        } catch let error as SQLiteError {
            throw StorageErrors.problem(for: error, logger: logger)
        }
        changes.publish(seq)
        return result
    }

    func read<T>(_ body: (SQLite.Connection) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as SQLiteError {
            throw StorageErrors.problem(for: error, logger: logger)
        }
    }
}

extension APIContext {
    /// The request's If-Match, or 428 when the server requires one.
    func ifMatch(_ request: HTTPRequest) throws(HTTPError) -> String? {
        let ifMatch = request.headers["If-Match"]
        if ifMatch == nil && requireIfMatch { throw APIError.preconditionRequired() }
        return ifMatch
    }

    /// 412 unless `ifMatch` names the representation `body` (nothing to check without If-Match).
    func check(_ ifMatch: String?, against body: [UInt8]) throws(HTTPError) {
        guard let ifMatch else { return }
        guard EntityTag.matchHits(ifMatch, current: EntityTag.strong(for: body)) else { throw APIError.preconditionFailed() }
    }
}

/// Maps SQLite failures that slip past validation to problems; internals stay in the log.
enum StorageErrors {
    static func problem(for error: SQLiteError, logger: Logger) -> HTTPError {
        if error.isUniqueViolation {
            let column = error.message.split(separator: ".").last.map(String.init) ?? "a unique field"
            return APIError.conflict("duplicate", "another record already has this \(column)")
        }
        if error.isBusy || error.isClosed {
            return APIError.unavailable("the database is busy or unavailable; retry shortly")
        }
        if error.isConstraintViolation {
            logger.warning("constraint rejected a write that validation let through: \(error)")
            return HTTPError(status: 422, code: "validation_failed", title: "Request body is invalid",
                             detail: "the record breaks a storage rule", type: "/problems/validation")
        }
        logger.error("database error: \(error)")
        return .internalError()
    }
}

/// Path parameters as integers (404 for anything that is not a positive id).
extension HTTPRequest {
    func id(_ name: String = "id", singular: String) throws(HTTPError) -> Int64 {
        guard let text = pathParameters[name], let id = Int64(text), id >= 1 else {
            throw APIError.notFound(singular, pathParameters[name] ?? "")
        }
        return id
    }
}
