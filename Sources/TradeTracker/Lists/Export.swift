import Foundation
import HTTPServer
import JSON
import SQLite
import Synchronization

/// A list read whole, streamed, as CSV or NDJSON (API.md §1 "Exports").
enum ExportFormat: String, Sendable {
    case csv, ndjson

    var contentType: String { self == .csv ? "text/csv; charset=utf-8" : "application/x-ndjson" }

    /// `?format=` (which wins), else `Accept`; nil for the list's JSON page. An unknown `format` is a 400.
    static func requested(_ request: HTTPRequest, format: String?) throws(Problem) -> ExportFormat? {
        if let format {
            switch format {
            case "csv": return .csv
            case "ndjson": return .ndjson
            case "json": return nil
            default: throw APIError.invalidParameter("format", "'\(format)' is not one of json, csv, ndjson")
            }
        }
        for element in request.headers.listValues("Accept") {
            let type = element.split(separator: ";").first?.trimmingHTTPWhitespace().lowercased() ?? ""
            if type == "application/json" || type == "*/*" { return nil }
            if type == "text/csv" { return .csv }
            if type == "application/x-ndjson" || type == "application/ndjson" { return .ndjson }
        }
        return nil
    }
}

/// How one list is exported: the keyset walk that selects its rows (in the list's order, `limit` ignored), its CSV
/// columns (the fields of its items, in order), and how a row becomes an item.
struct ListExport: Sendable {
    /// For the `Content-Disposition` file name (`rounds`, `timeline`).
    let name: String
    let columns: [String]
    var keyset: KeysetQuery
    /// The items' JSON for a page of rows, as the list's JSON page has them (read through the export's snapshot).
    let items: @Sendable (any SQLExecutor, [Row]) throws -> [[UInt8]]
    /// A faster CSV row straight from the stored row, when there is one (resources); else the JSON is split.
    var csv: (@Sendable (Row, inout CSVWriter) -> Void)? = nil

    init(name: String, columns: [String], keyset: KeysetQuery, items: @escaping @Sendable (any SQLExecutor, [Row]) throws -> [[UInt8]],
         csv: (@Sendable (Row, inout CSVWriter) -> Void)? = nil) {
        self.name = name
        self.columns = columns
        self.keyset = keyset
        self.items = items
        self.csv = csv
    }

    /// An export whose items are made from each row alone.
    init(name: String, columns: [String], keyset: KeysetQuery, json: @escaping @Sendable (Row) -> [UInt8],
         csv: (@Sendable (Row, inout CSVWriter) -> Void)? = nil) {
        self.init(name: name, columns: columns, keyset: keyset, items: { _, rows in rows.map(json) }, csv: csv)
    }

    /// An export whose items a `(Row, inout JSONWriter)` writer makes, the one its JSON page uses.
    init(name: String, columns: [String], keyset: KeysetQuery, writing write: @escaping @Sendable (Row, inout JSONWriter) -> Void) {
        self.init(name: name, columns: columns, keyset: keyset, json: { row in
            var json = JSONWriter(capacity: 256)
            write(row, &json)
            return json.bytes
        })
    }

    static let pageSize = 500
    /// Exports running at once; more get 503, so streams never hold every reader.
    static let maxConcurrent = 2
    private static let running = Atomic<Int>(0)

    /// The chunked response: its ETag (the list, the format and the data's state), a 304 for a matching
    /// `If-None-Match` (no database read), and a body read from one snapshot, a page at a time, at the client's pace.
    func response(_ request: HTTPRequest, query: ListQuery, format: ExportFormat, context: APIContext) throws -> HTTPResponse {
        let download = query.download
        let today = context.clock.today()
        let description = "\(query.scope.name)?\(query.parameters.map { $0.joined(separator: "=") }.joined(separator: "&"))&\(format)"
        guard Self.running.add(1, ordering: .acquiringAndReleasing).newValue <= Self.maxConcurrent else {
            Self.running.subtract(1, ordering: .acquiringAndReleasing)
            throw APIError.unavailable("\(Self.maxConcurrent) exports are running; retry shortly", retryAfter: 2)
        }
        var started = false
        defer { if !started { Self.running.subtract(1, ordering: .acquiringAndReleasing) } }
        // The snapshot is opened here, so the ETag names exactly the state the body is read from.
        let lease: Database.ReaderLease
        let seq: Int64
        do {
            lease = try context.database.leaseReader()
            do {
                try lease.executor.run(lease.executor.dialect.beginSnapshot)
                seq = try ChangeSignal.newestSeq(lease.executor)
            } catch {
                lease.release()
                throw error
            }
        } catch {
            guard let storage = StorageError(sorting: error) else { throw error }
            throw StorageErrors.problem(for: storage, logger: context.logger)
        }
        let tag = "\"export-\(SipHash.fixed.hash(Array(description.utf8)).paddedHex)-\(seq)-\(today.daysSinceEpoch)\""
        var headers = HTTPHeaders()
        headers.add("ETag", tag)
        headers.add("Cache-Control", "private, no-cache")
        if download { headers.add("Content-Disposition", "attachment; filename=\"\(name).\(format == .csv ? "csv" : "ndjson")\"") }
        if let field = request.headers["If-None-Match"], EntityTag.noneMatchHits(field, current: tag) {
            lease.release()
            var notModified = HTTPResponse(status: 304, headers: headers)
            notModified.headers.remove("Content-Disposition")
            return notModified
        }
        if request.method == "HEAD" {
            lease.release()
            var head = HTTPResponse.chunked(contentType: format.contentType) { _ in }
            for field in headers { head.headers.add(field.name, field.value) }
            return head
        }
        started = true
        let export = self
        var response = HTTPResponse.chunked(contentType: format.contentType) { body in
            defer {
                lease.release()
                Self.running.subtract(1, ordering: .acquiringAndReleasing)
            }
            _ = try export.write(format, from: lease.executor) { try body.write($0) }
        }
        for field in headers { response.headers.add(field.name, field.value) }
        return response
    }

    /// Every row, a page at a time, each page handed to `sink` as one block (a chunk of the HTTP body, or a file's
    /// next bytes); the rows written.
    func write(_ format: ExportFormat, from db: some SQLExecutor, to sink: ([UInt8]) throws -> Void) throws -> Int {
        var keyset = self.keyset
        keyset.limit = Self.pageSize
        keyset.after = nil
        if format == .csv {
            var header = CSVWriter()
            header.row(columns)
            try sink(header.bytes)
        }
        var rows = 0
        while true {
            let page = try keyset.fetch(db)
            rows += page.rows.count
            var out = CSVWriter(capacity: 64 * 1024)
            if format == .csv, let csv {
                for row in page.rows { csv(row, &out) }
            } else {
                for item in try items(db, page.rows) {
                    if format == .csv {
                        out.row(fromJSON: item, columns: columns)
                    } else {
                        out.raw(item)
                        out.raw([10])
                    }
                }
            }
            try sink(out.bytes)
            guard let next = page.nextKeys else { return rows }
            keyset.after = next
        }
    }
}

/// RFC 4180 CSV: fields quoted when they hold a comma, a quote, CR or LF (quotes doubled), CRLF line ends, an
/// empty cell for null, arrays and objects as their JSON text.
struct CSVWriter {
    private(set) var bytes: [UInt8] = []
    private var rowStarted = false

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    mutating func row(_ fields: [String]) {
        for field in fields { cell(field) }
        endRow()
    }

    /// One cell of text.
    mutating func cell(_ text: String) {
        separate()
        let utf8 = text.utf8
        let needsQuotes = utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 13 || $0 == 10 }
        guard needsQuotes else {
            bytes.append(contentsOf: utf8)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for b in utf8 {
            if b == UInt8(ascii: "\"") { bytes.append(b) }
            bytes.append(b)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A cell that is known to need no quoting (numbers, true/false).
    mutating func plainCell(_ text: String) {
        separate()
        bytes.append(contentsOf: text.utf8)
    }

    mutating func emptyCell() { separate() }

    mutating func endRow() {
        bytes.append(13)
        bytes.append(10)
        rowStarted = false
    }

    private mutating func separate() {
        if rowStarted { bytes.append(UInt8(ascii: ",")) }
        rowStarted = true
    }

    /// A row from a JSON object's members, in `columns` order.
    mutating func row(fromJSON item: [UInt8], columns: [String]) {
        let members = (try? JSONParser.parse(item))?.objectValue ?? []
        for column in columns { cell(value: members.first { $0.0 == column }?.1 ?? .null) }
        endRow()
    }

    mutating func cell(value: JSONValue) {
        switch value {
        case .null: emptyCell()
        case .bool(let b): plainCell(b ? "true" : "false")
        case .number(let text): plainCell(text)
        case .string(let s): cell(s)
        case .array, .object: cell(String(decoding: value.encoded, as: UTF8.self))
        }
    }
}
