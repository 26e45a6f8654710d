#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>

// sqlite3_db_config is C-variadic, which Swift cannot call; these fixed-arity
// wrappers expose only the options the wrapper needs.

/// SQLITE_DBCONFIG_DEFENSIVE forbids writes that can corrupt the file
/// (writable_schema, direct shadow-table edits) even from SQL we did not write.
static inline int csqlite_db_config_defensive(sqlite3 *db, int enable) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, enable, (int *)0);
}

/// Same effect as PRAGMA foreign_keys, but cannot be undone by a stray pragma
/// text and reports the resulting state through `enabled`.
static inline int csqlite_db_config_enable_fkey(sqlite3 *db, int enable, int *enabled) {
    return sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, enable, enabled);
}

/// Double-quoted string literals are a misfeature ("DQS"); turning them off
/// makes a misspelt column name an error instead of a silent string.
static inline int csqlite_db_config_dqs(sqlite3 *db, int enable) {
    int rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, enable, (int *)0);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, enable, (int *)0);
}

/// SQLITE_CONFIG_MEMSTATUS off: SQLite then stops counting every allocation under one process-wide mutex (two
/// lock round trips per malloc/free, on every connection). Only before the library initialises; SQLITE_MISUSE after.
static inline int csqlite_config_memstatus(int enable) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, enable);
}

#endif
