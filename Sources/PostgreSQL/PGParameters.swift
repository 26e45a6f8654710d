import CPostgreSQL

/// The four parallel C arrays `PQexecPrepared` takes, and the memory they point into
/// (freed on deinit, so keep the object alive across the call).
///
/// Values go in text format with an explicit type, except bytea, which goes in binary
/// format: its text form would need hex encoding on our side and decoding on the server's.
/// NULL is sent with type 0 so the server infers the type from where `$n` stands.
final class PGParameters {
    let types: [Oid]
    let values: [UnsafePointer<CChar>?]
    let lengths: [Int32]
    let formats: [Int32]
    private let buffers: [UnsafeMutableRawPointer]

    init(_ parameters: [PGValue], sql: String) throws {
        // Checked before anything is allocated, so a throw leaks nothing.
        for (offset, parameter) in parameters.enumerated() {
            if case .text(let text) = parameter, text.utf8.contains(0) {
                throw PGError.misuse("parameter $\(offset + 1) contains a NUL character, which PostgreSQL text cannot hold", sql: sql)
            }
        }
        var types: [Oid] = []
        var values: [UnsafePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        var buffers: [UnsafeMutableRawPointer] = []
        for parameter in parameters {
            types.append(PGParameters.type(of: parameter))
            let bytes: [UInt8]
            switch parameter {
            case .null:
                values.append(nil)
                lengths.append(0)
                formats.append(0)
                continue
            case .bytea(let data):
                bytes = data
                formats.append(1)
            case .text(let text):
                bytes = Array(text.utf8)
                formats.append(0)
            default:
                bytes = Array(PGParameters.text(of: parameter).utf8)
                formats.append(0)
            }
            // One spare byte: text needs its NUL terminator, and an empty bytea still needs a
            // non-nil pointer, because libpq reads a nil value as SQL NULL.
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes.count + 1, alignment: 1)
            buffers.append(buffer)
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress { buffer.copyMemory(from: base, byteCount: source.count) }
            }
            buffer.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
            values.append(UnsafePointer(buffer.assumingMemoryBound(to: CChar.self)))
            lengths.append(Int32(bytes.count))
        }
        self.types = types
        self.values = values
        self.lengths = lengths
        self.formats = formats
        self.buffers = buffers
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }

    var count: Int32 { Int32(types.count) }

    /// The type OID a value binds as.
    static func type(of value: PGValue) -> Oid {
        switch value {
        case .null: return PGTypeOID.unspecified
        case .integer: return PGTypeOID.int8
        case .real: return PGTypeOID.float8
        case .text: return PGTypeOID.text
        case .bytea: return PGTypeOID.bytea
        case .boolean: return PGTypeOID.bool
        }
    }

    /// The text form PostgreSQL's input function for the value's type accepts.
    private static func text(of value: PGValue) -> String {
        switch value {
        case .integer(let v): return String(v)
        case .real(let v):
            // Swift's description is the shortest text that round-trips, which float8in reads back
            // exactly; the special values are spelled the way float8in documents them.
            if v.isNaN { return "NaN" }
            if v.isInfinite { return v < 0 ? "-Infinity" : "Infinity" }
            return v.description
        case .boolean(let v): return v ? "t" : "f"
        case .text(let v): return v
        case .null, .bytea: return "" // not sent as text
        }
    }
}
