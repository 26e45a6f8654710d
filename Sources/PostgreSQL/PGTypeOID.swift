import CPostgreSQL

/// The built-in type OIDs the wrapper binds or decodes (fixed in PostgreSQL's catalog, `pg_type.dat`).
enum PGTypeOID {
    /// Lets the server infer the parameter's type from its context, as for an untyped literal.
    static let unspecified: Oid = 0
    static let bool: Oid = 16
    static let bytea: Oid = 17
    static let int8: Oid = 20
    static let int2: Oid = 21
    static let int4: Oid = 23
    static let text: Oid = 25
    static let oid: Oid = 26
    static let float4: Oid = 700
    static let float8: Oid = 701
    static let numeric: Oid = 1700
}
