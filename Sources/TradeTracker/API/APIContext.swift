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
    let database: Database
    let clock: TimeSource
    let signer: CursorSigner
    let requireIfMatch: Bool
    let logger: Logger
    /// Told the change log's newest seq after every commit (the change feed and /v1/status listen).
    let changes: ChangeSignal
    /// Encoded records, reused by lists and reads.
    let records: RecordCache
    /// Whole GET answers of resource reads, until the database changes.
    let responses: ResponseCache
    /// The one way to write.
    let writes: WriteService

    /// Who writes and under which request (and Idempotency-Key, on POST).
    func writeContext(_ request: HTTPRequest) throws(Problem) -> WriteContext {
        let principal = request.attributes[PrincipalKey.self]
        var context = WriteContext(actor: principal?.name, requestID: request.requestID, now: clock.now(), today: clock.today())
        if request.method == "POST", let key = request.headers["Idempotency-Key"] {
            guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
                throw APIError.invalidIdempotencyKey()
            }
            let fingerprint = SipHash.fixed.hash(Array("\(request.method) \(request.path)\n".utf8) + request.body).paddedHex
            context.idempotency = IdempotencyClaim(scope: principal?.name ?? "", key: key, fingerprint: fingerprint,
                                                   method: request.method, path: request.path)
        }
        return context
    }

    /// The SQL dialect of the database's engine, for statements built before a connection is at hand.
    var dialect: SQLDialect { database.dialect }

    /// `body` on a reader; a storage failure becomes its problem (a Problem `body` throws passes through).
    func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        do {
            return try database.read(body)
        } catch let error as SQLiteError {
            throw StorageErrors.problem(for: error, logger: logger)
        } catch let error as StorageError {
            throw StorageErrors.problem(for: error, logger: logger)
        }
    }

    /// The request's If-Match, or 428 when the server requires one.
    func ifMatch(_ request: HTTPRequest) throws(Problem) -> String? {
        let ifMatch = request.headers["If-Match"]
        if ifMatch == nil && requireIfMatch { throw APIError.preconditionRequired() }
        return ifMatch
    }
}

/// Path parameters as integers (404 for anything that is not a positive id).
extension HTTPRequest {
    func id(_ name: String = "id", singular: String) throws(Problem) -> Int64 {
        guard let text = pathParameters[name], let id = Int64(text), id >= 1 else {
            throw APIError.notFound(singular, pathParameters[name] ?? "")
        }
        return id
    }
}

extension APIContext {
    /// Queues a write and returns at once with a deferred response, completed once the write's commit is durable
    /// (or with its problem); the request worker is free meanwhile. A body with field problems is answered from a
    /// reader instead (see `WriteService.rehearse`), so requests that cannot succeed never occupy the writer.
    /// `rerunnable` (the default, for a route's own write): `body` reads nothing but the database, so the writer may run
    /// it again after rolling its batch back; false for a body that consumes input as it runs (an import, a batch).
    func respondAfterCommit(_ request: HTTPRequest, _ write: WriteContext, knownInvalid: Bool = false, rerunnable: Bool = true,
                            _ body: @escaping @Sendable (WriteTransaction) throws -> WriteOutcome) throws -> HTTPResponse {
        // One operation of a batch: the batch runs the write in its own transaction.
        if let slot = request.attributes[BatchOperationKey.self] {
            slot.body = body
            return HTTPResponse(status: 202)
        }
        if knownInvalid { try writes.rehearse(write, body) }
        let deferred = DeferredResponse()
        let instance = request.path, requestID = request.requestID
        try writes.submitOnce(write, rerunnable: rerunnable, body) { result in
            switch result {
            case .success(let outcome): deferred.complete(outcome.response)
            case .failure(let problem): deferred.complete(ProblemRenderer.response(problem, instance: instance, requestID: requestID))
            }
        }
        return .deferred(deferred)
    }
}
