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

/// SQLITE_CONFIG_MEMSTATUS off: "Applications that do not need memory statistics can disable it for
/// performance" (sqlite.org/c3ref/c_config_covering_index_scan.html) — it takes a global mutex on every
/// allocation. Only before sqlite3_initialize (the first open); SQLITE_MISUSE after.
static inline int csqlite_config_memstatus(int enable) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, enable);
}

#include <string.h>

/// SQLite's own mapping of the first 32 KiB region of the wal-index (the `-shm` shared memory every connection to
/// the file reads and writes; sqlite.org/walformat.html §2), through the VFS method xShmMap of `db`'s main file.
/// NULL when there is none: not in WAL mode, a VFS without shared memory, the region not made yet. The mapping is
/// the connection's: it stays valid while `db` is open.
static inline const volatile unsigned char *csqlite_wal_index(sqlite3 *db) {
    sqlite3_file *file = 0;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file || !file->pMethods) return 0;
    if (file->pMethods->iVersion < 2 || !file->pMethods->xShmMap) return 0;
    volatile void *region = 0;
    if (file->pMethods->xShmMap(file, 0, 32768, 0, &region) != SQLITE_OK) return 0;
    return (const volatile unsigned char *)region;
}

/// The wal-index header (walformat.html §2.2.1: 48 bytes, kept twice; iChange, its third word, counts the
/// transactions committed) into `out`, read as SQLite's readers read it: the first copy, a barrier, the second
/// (writers write the second first). 1 when the copies agree and the header is initialised; 0 while a writer is
/// between the copies, or before any header was written.
static inline int csqlite_wal_index_header(const volatile unsigned char *index, unsigned char out[48]) {
    unsigned char first[48], second[48];
    for (int i = 0; i < 48; i++) first[i] = index[i];
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    for (int i = 0; i < 48; i++) second[i] = index[48 + i];
    if (memcmp(first, second, 48) != 0 || first[12] == 0) return 0;
    memcpy(out, first, 48);
    return 1;
}

#endif
