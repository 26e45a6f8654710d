#ifndef CPOSTGRESQL_SHIM_H
#define CPOSTGRESQL_SHIM_H

#include <libpq-fe.h>

// The PG_DIAG_* field codes are character-literal macros ('C', 'M', ...), which the
// Swift importer does not carry over; these constants give them names Swift can see.
static const int cpostgresql_diag_sqlstate = PG_DIAG_SQLSTATE;
static const int cpostgresql_diag_message_primary = PG_DIAG_MESSAGE_PRIMARY;
static const int cpostgresql_diag_message_detail = PG_DIAG_MESSAGE_DETAIL;
static const int cpostgresql_diag_message_hint = PG_DIAG_MESSAGE_HINT;
static const int cpostgresql_diag_constraint_name = PG_DIAG_CONSTRAINT_NAME;
static const int cpostgresql_diag_table_name = PG_DIAG_TABLE_NAME;
static const int cpostgresql_diag_column_name = PG_DIAG_COLUMN_NAME;

#endif
