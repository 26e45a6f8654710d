#ifndef CPOSTGRESQL_SHIM_H
#define CPOSTGRESQL_SHIM_H

// Declarations only: libpq is opened at run time (LibPQ.swift), not linked, so a server on SQLite neither needs
// libpq installed nor maps it and the libraries it pulls in (OpenSSL, GnuTLS, Kerberos, LDAP: about 5 MB of RSS).
#include <postgresql/libpq-fe.h>

// The PG_DIAG_* field codes are character-literal macros ('C', 'M', ...), which the
// Swift importer does not carry over; these constants give them names Swift can see.
static const int cpostgresql_diag_sqlstate = PG_DIAG_SQLSTATE;
static const int cpostgresql_diag_message_primary = PG_DIAG_MESSAGE_PRIMARY;
static const int cpostgresql_diag_message_detail = PG_DIAG_MESSAGE_DETAIL;
static const int cpostgresql_diag_message_hint = PG_DIAG_MESSAGE_HINT;
static const int cpostgresql_diag_constraint_name = PG_DIAG_CONSTRAINT_NAME;
static const int cpostgresql_diag_table_name = PG_DIAG_TABLE_NAME;
static const int cpostgresql_diag_column_name = PG_DIAG_COLUMN_NAME;

// The type of each libpq function the PostgreSQL module calls, for the pointers dlsym gives.
typedef __typeof__(PQbackendPID) *cpostgresql_PQbackendPID_fn;
typedef __typeof__(PQclear) *cpostgresql_PQclear_fn;
typedef __typeof__(PQcmdStatus) *cpostgresql_PQcmdStatus_fn;
typedef __typeof__(PQcmdTuples) *cpostgresql_PQcmdTuples_fn;
typedef __typeof__(PQconnectdbParams) *cpostgresql_PQconnectdbParams_fn;
typedef __typeof__(PQconninfoFree) *cpostgresql_PQconninfoFree_fn;
typedef __typeof__(PQconninfoParse) *cpostgresql_PQconninfoParse_fn;
typedef __typeof__(PQconsumeInput) *cpostgresql_PQconsumeInput_fn;
typedef __typeof__(PQdescribePrepared) *cpostgresql_PQdescribePrepared_fn;
typedef __typeof__(PQerrorMessage) *cpostgresql_PQerrorMessage_fn;
typedef __typeof__(PQescapeIdentifier) *cpostgresql_PQescapeIdentifier_fn;
typedef __typeof__(PQexec) *cpostgresql_PQexec_fn;
typedef __typeof__(PQexecPrepared) *cpostgresql_PQexecPrepared_fn;
typedef __typeof__(PQfinish) *cpostgresql_PQfinish_fn;
typedef __typeof__(PQfname) *cpostgresql_PQfname_fn;
typedef __typeof__(PQfreemem) *cpostgresql_PQfreemem_fn;
typedef __typeof__(PQftype) *cpostgresql_PQftype_fn;
typedef __typeof__(PQgetCopyData) *cpostgresql_PQgetCopyData_fn;
typedef __typeof__(PQgetResult) *cpostgresql_PQgetResult_fn;
typedef __typeof__(PQgetisnull) *cpostgresql_PQgetisnull_fn;
typedef __typeof__(PQgetlength) *cpostgresql_PQgetlength_fn;
typedef __typeof__(PQgetvalue) *cpostgresql_PQgetvalue_fn;
typedef __typeof__(PQnfields) *cpostgresql_PQnfields_fn;
typedef __typeof__(PQnotifies) *cpostgresql_PQnotifies_fn;
typedef __typeof__(PQnparams) *cpostgresql_PQnparams_fn;
typedef __typeof__(PQntuples) *cpostgresql_PQntuples_fn;
typedef __typeof__(PQprepare) *cpostgresql_PQprepare_fn;
typedef __typeof__(PQputCopyEnd) *cpostgresql_PQputCopyEnd_fn;
typedef __typeof__(PQreset) *cpostgresql_PQreset_fn;
typedef __typeof__(PQresultErrorField) *cpostgresql_PQresultErrorField_fn;
typedef __typeof__(PQresultStatus) *cpostgresql_PQresultStatus_fn;
typedef __typeof__(PQserverVersion) *cpostgresql_PQserverVersion_fn;
typedef __typeof__(PQsetNoticeProcessor) *cpostgresql_PQsetNoticeProcessor_fn;
typedef __typeof__(PQsocket) *cpostgresql_PQsocket_fn;
typedef __typeof__(PQstatus) *cpostgresql_PQstatus_fn;
typedef __typeof__(PQtransactionStatus) *cpostgresql_PQtransactionStatus_fn;

#endif
