import CPostgreSQL
import Foundation

extension PGError {
    /// The error a failed command left: the result's diagnostic fields when there is a result,
    /// else the connection's message. The kind is `.connection` whenever the connection is
    /// broken afterwards, whatever SQLSTATE came with it (57P01 on a fast shutdown, or none).
    static func from(result: OpaquePointer?, connection: OpaquePointer?, sql: String?, conninfo: String) -> PGError {
        let broken = connection.map { libpq.PQstatus($0) == CONNECTION_BAD } ?? true
        let kind: PGErrorKind = (broken || result == nil) ? .connection : .server
        func field(_ code: Int32) -> String? {
            guard let result, let value = libpq.PQresultErrorField(result, code) else { return nil }
            return PGConninfo.maskingPassword(of: conninfo, in: String(cString: value))
        }
        let message = field(cpostgresql_diag_message_primary)
            ?? connectionMessage(connection, conninfo: conninfo)
            ?? "no result from the server"
        return PGError(
            kind: kind,
            sqlState: field(cpostgresql_diag_sqlstate),
            message: message,
            detail: field(cpostgresql_diag_message_detail),
            hint: field(cpostgresql_diag_message_hint),
            constraint: field(cpostgresql_diag_constraint_name),
            table: field(cpostgresql_diag_table_name),
            column: field(cpostgresql_diag_column_name),
            sql: sql
        )
    }

    /// `PQerrorMessage`, trimmed and masked; nil when empty.
    static func connectionMessage(_ connection: OpaquePointer?, conninfo: String) -> String? {
        guard let connection, let text = libpq.PQerrorMessage(connection) else { return nil }
        let message = String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
        return message.isEmpty ? nil : PGConninfo.maskingPassword(of: conninfo, in: message)
    }
}
