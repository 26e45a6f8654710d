import CPostgreSQL
#if canImport(Glibc)
import Glibc
#endif

/// libpq's functions, from the shared library opened the first time a PostgreSQL connection or conninfo is used.
/// Not linked: a server on SQLite never maps libpq nor what it pulls in (OpenSSL, GnuTLS, Kerberos, LDAP), which
/// costs about 5 MB of RSS, and needs no libpq installed.
struct LibPQ: @unchecked Sendable {
    let PQbackendPID: cpostgresql_PQbackendPID_fn
    let PQclear: cpostgresql_PQclear_fn
    let PQcmdStatus: cpostgresql_PQcmdStatus_fn
    let PQcmdTuples: cpostgresql_PQcmdTuples_fn
    let PQconnectdbParams: cpostgresql_PQconnectdbParams_fn
    let PQconninfoFree: cpostgresql_PQconninfoFree_fn
    let PQconninfoParse: cpostgresql_PQconninfoParse_fn
    let PQconsumeInput: cpostgresql_PQconsumeInput_fn
    let PQdescribePrepared: cpostgresql_PQdescribePrepared_fn
    let PQerrorMessage: cpostgresql_PQerrorMessage_fn
    let PQescapeIdentifier: cpostgresql_PQescapeIdentifier_fn
    let PQexec: cpostgresql_PQexec_fn
    let PQexecPrepared: cpostgresql_PQexecPrepared_fn
    let PQfinish: cpostgresql_PQfinish_fn
    let PQfname: cpostgresql_PQfname_fn
    let PQfreemem: cpostgresql_PQfreemem_fn
    let PQftype: cpostgresql_PQftype_fn
    let PQgetCopyData: cpostgresql_PQgetCopyData_fn
    let PQgetResult: cpostgresql_PQgetResult_fn
    let PQgetisnull: cpostgresql_PQgetisnull_fn
    let PQgetlength: cpostgresql_PQgetlength_fn
    let PQgetvalue: cpostgresql_PQgetvalue_fn
    let PQnfields: cpostgresql_PQnfields_fn
    let PQnotifies: cpostgresql_PQnotifies_fn
    let PQnparams: cpostgresql_PQnparams_fn
    let PQntuples: cpostgresql_PQntuples_fn
    let PQprepare: cpostgresql_PQprepare_fn
    let PQputCopyEnd: cpostgresql_PQputCopyEnd_fn
    let PQreset: cpostgresql_PQreset_fn
    let PQresultErrorField: cpostgresql_PQresultErrorField_fn
    let PQresultStatus: cpostgresql_PQresultStatus_fn
    let PQserverVersion: cpostgresql_PQserverVersion_fn
    let PQsetNoticeProcessor: cpostgresql_PQsetNoticeProcessor_fn
    let PQsocket: cpostgresql_PQsocket_fn
    let PQstatus: cpostgresql_PQstatus_fn
    let PQtransactionStatus: cpostgresql_PQtransactionStatus_fn

    /// The library, or why it could not be opened (no libpq5 installed, or one without a function we call).
    static let loaded: Result<LibPQ, PGError> = Result { try LibPQ(names: ["libpq.so.5", "libpq.so"]) }
        .mapError { $0 as? PGError ?? PGError(kind: .connection, message: "\($0)") }

    /// The opened library; throws a connection error that says what to install when there is none.
    static func open() throws -> LibPQ { try loaded.get() }

    private init(names: [String]) throws {
        var opened: UnsafeMutableRawPointer?
        var reasons: [String] = []
        for name in names {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) {
                opened = handle
                break
            }
            reasons.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let handle = opened else {
            throw PGError(kind: .connection, message: "PostgreSQL needs libpq, which is not installed (Debian: apt-get install libpq5): "
                + reasons.joined(separator: "; "))
        }
        func symbol<T>(_ name: String) throws -> T {
            guard let address = dlsym(handle, name) else {
                throw PGError(kind: .connection, message: "the installed libpq has no \(name); PostgreSQL 12 or newer's libpq is needed")
            }
            return unsafeBitCast(address, to: T.self)
        }
        PQbackendPID = try symbol("PQbackendPID")
        PQclear = try symbol("PQclear")
        PQcmdStatus = try symbol("PQcmdStatus")
        PQcmdTuples = try symbol("PQcmdTuples")
        PQconnectdbParams = try symbol("PQconnectdbParams")
        PQconninfoFree = try symbol("PQconninfoFree")
        PQconninfoParse = try symbol("PQconninfoParse")
        PQconsumeInput = try symbol("PQconsumeInput")
        PQdescribePrepared = try symbol("PQdescribePrepared")
        PQerrorMessage = try symbol("PQerrorMessage")
        PQescapeIdentifier = try symbol("PQescapeIdentifier")
        PQexec = try symbol("PQexec")
        PQexecPrepared = try symbol("PQexecPrepared")
        PQfinish = try symbol("PQfinish")
        PQfname = try symbol("PQfname")
        PQfreemem = try symbol("PQfreemem")
        PQftype = try symbol("PQftype")
        PQgetCopyData = try symbol("PQgetCopyData")
        PQgetResult = try symbol("PQgetResult")
        PQgetisnull = try symbol("PQgetisnull")
        PQgetlength = try symbol("PQgetlength")
        PQgetvalue = try symbol("PQgetvalue")
        PQnfields = try symbol("PQnfields")
        PQnotifies = try symbol("PQnotifies")
        PQnparams = try symbol("PQnparams")
        PQntuples = try symbol("PQntuples")
        PQprepare = try symbol("PQprepare")
        PQputCopyEnd = try symbol("PQputCopyEnd")
        PQreset = try symbol("PQreset")
        PQresultErrorField = try symbol("PQresultErrorField")
        PQresultStatus = try symbol("PQresultStatus")
        PQserverVersion = try symbol("PQserverVersion")
        PQsetNoticeProcessor = try symbol("PQsetNoticeProcessor")
        PQsocket = try symbol("PQsocket")
        PQstatus = try symbol("PQstatus")
        PQtransactionStatus = try symbol("PQtransactionStatus")
    }
}

/// The opened libpq for code that runs only once a connection exists (opening one went through `LibPQ.open()`).
var libpq: LibPQ {
    switch LibPQ.loaded {
    case .success(let library): return library
    case .failure(let error): preconditionFailure("libpq used before a connection was opened: \(error)")
    }
}
