import CPostgreSQL

/// Owns one `PGresult` (cleared on deinit) and copies its rows out as `PGRow`s.
final class PGResult {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        libpq.PQclear(handle)
    }

    var status: ExecStatusType { libpq.PQresultStatus(handle) }

    /// True for the statuses a finished, successful command ends in.
    var succeeded: Bool {
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY: return true
        default: return false
        }
    }

    /// Rows inserted, updated, deleted, selected, moved or copied (`PQcmdTuples`); 0 for other commands.
    var affectedRows: Int {
        guard let text = libpq.PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    /// The command tag, e.g. `INSERT 0 1` or `ROLLBACK`.
    var commandTag: String {
        libpq.PQcmdStatus(handle).map { String(cString: $0) } ?? ""
    }

    func rows() -> [PGRow] {
        let rowCount = libpq.PQntuples(handle)
        guard rowCount > 0 else { return [] }
        let columnCount = libpq.PQnfields(handle)
        let columns = PGColumns(
            names: (0..<columnCount).map { libpq.PQfname(handle, $0).map { String(cString: $0) } ?? "" },
            types: (0..<columnCount).map { libpq.PQftype(handle, $0) }
        )
        return (0..<rowCount).map { row in
            PGRow(columns: columns, values: (0..<columnCount).map { value(row: row, column: $0, type: columns.types[Int($0)]) })
        }
    }

    /// Converts one text-format field by its column's type; a type without a case of its own,
    /// and any field that does not parse as its type claims, stays text.
    private func value(row: Int32, column: Int32, type: Oid) -> PGValue {
        guard libpq.PQgetisnull(handle, row, column) == 0, let start = libpq.PQgetvalue(handle, row, column) else { return .null }
        let length = Int(libpq.PQgetlength(handle, row, column))
        // Length-based, not NUL-terminated: libpq gives both, this avoids a second scan.
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self), count: length)
        let text = { String(decoding: bytes, as: UTF8.self) }
        switch type {
        case PGTypeOID.int2, PGTypeOID.int4, PGTypeOID.int8, PGTypeOID.oid:
            return Int64(text()).map(PGValue.integer) ?? .text(text())
        case PGTypeOID.float4, PGTypeOID.float8:
            return Double(text()).map(PGValue.real) ?? .text(text())
        case PGTypeOID.bool:
            return .boolean(length > 0 && bytes[0] == UInt8(ascii: "t"))
        case PGTypeOID.bytea:
            return PGByteaText.decode(bytes).map(PGValue.bytea) ?? .text(text())
        default:
            return .text(text())
        }
    }
}
