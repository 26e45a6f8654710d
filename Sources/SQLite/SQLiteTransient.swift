import CSQLite

/// The C macro `SQLITE_TRANSIENT` ((sqlite3_destructor_type)-1) does not import into Swift.
/// Passing it makes SQLite copy bound text and blobs before the bind call returns, so the
/// Swift buffers only need to live for the duration of that call.
/// Kept out of `main.swift`, whose globals are main-actor isolated in Swift 6.
let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
