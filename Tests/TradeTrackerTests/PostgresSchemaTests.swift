import Foundation
import PostgreSQL
import SQLite
import XCTest
@testable import TradeTracker

/// The PostgreSQL schema is the SQLite schema, in another engine's words; and its change-log seq keeps commit order.
final class PostgresSchemaTests: PostgresTestCase {
    /// The shape both engines must share, as comparable text.
    private struct Shape: Equatable {
        /// `table: column NOT NULL integer, ...` per ordinary table, in column order.
        var columns: [String: [String]] = [:]
        var searchTables: Set<String> = []
        var indexes: Set<String> = []
        /// `child.column -> parent.column`.
        var foreignKeys: Set<String> = []
    }

    /// Tables only one engine has, each for a reason the migrations' headers give.
    private static let postgresOnlyTables: Set<String> = ["change_log_counter"]
    private static let sqliteOnlyTables: Set<String> = ["search_pending"]

    private func sqliteShape() throws -> Shape {
        let db = try SQLiteConnection(path: ":memory:")
        defer { db.close() }
        try Migrator.load(directory: TestApp.packageRoot.appendingPathComponent("migrations").path).migrate(db)
        var shape = Shape()
        let tables = try db.query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        for table in tables {
            guard let name = table.text("name"), let sql = table.text("sql"), !PostgresSchemaTests.sqliteOnlyTables.contains(name) else { continue }
            if sql.hasPrefix("CREATE VIRTUAL TABLE") {
                shape.searchTables.insert(name)
                continue
            }
            // FTS5's own shadow tables (x_fts_data, x_fts_idx, ...) belong to the virtual table.
            if tables.contains(where: { ($0.text("sql") ?? "").hasPrefix("CREATE VIRTUAL TABLE") && name.hasPrefix(($0.text("name") ?? "") + "_") }) {
                continue
            }
            // table_xinfo also lists generated columns; `hidden` 1 would be a virtual table's hidden column.
            shape.columns[name] = try db.query("SELECT name, type, \"notnull\", pk FROM pragma_table_xinfo(?) WHERE hidden <> 1", [.text(name)]).map { column in
                let notNull = column.int("notnull") == 1 || (column.int("pk") ?? 0) > 0
                let kind = ["INTEGER": "integer", "TEXT": "text", "BLOB": "bytes"][column.text("type") ?? ""] ?? "?"
                return "\(column.text("name") ?? "?")\(notNull ? " NOT NULL" : "") \(kind)"
            }
            for key in try db.query("SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?)", [.text(name)]) {
                shape.foreignKeys.insert("\(name).\(key.text("from") ?? "?") -> \(key.text("table") ?? "?").\(key.text("to") ?? "?")")
            }
        }
        for index in try db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL") {
            shape.indexes.insert(index.text("name") ?? "?")
        }
        return shape
    }

    private func postgresShape() throws -> Shape {
        try loadMigrator().migrate(db)
        var shape = Shape()
        let columns = try db.query("""
            SELECT c.table_name, c.column_name, c.is_nullable, c.data_type
            FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
            ORDER BY c.table_name, c.ordinal_position
            """)
        for column in columns {
            guard let table = column.text("table_name"), !PostgresSchemaTests.postgresOnlyTables.contains(table) else { continue }
            if table.hasSuffix("_fts") {
                shape.searchTables.insert(table)
                continue
            }
            // json holds what SQLite keeps as JSON text.
            let kind = ["bigint": "integer", "text": "text", "json": "text", "bytea": "bytes"][column.text("data_type") ?? ""] ?? "?"
            let notNull = column.text("is_nullable") == "NO"
            shape.columns[table, default: []].append("\(column.text("column_name") ?? "?")\(notNull ? " NOT NULL" : "") \(kind)")
        }
        // Indexes written by CREATE INDEX: not those behind a PRIMARY KEY or UNIQUE constraint (SQLite's autoindexes),
        // nor the search tables' GIN indexes (FTS5 keeps its index in its shadow tables).
        for index in try db.query("""
            SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE c.relnamespace = current_schema()::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            """) {
            let name = index.text("relname") ?? "?"
            if !name.hasSuffix("_fts_document") { shape.indexes.insert(name) }
        }
        for key in try db.query("""
            SELECT k.conrelid::regclass::text AS child, a.attname AS column_name,
                   k.confrelid::regclass::text AS parent, p.attname AS parent_column
            FROM pg_constraint k
            JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
            JOIN pg_attribute p ON p.attrelid = k.confrelid AND p.attnum = k.confkey[1]
            WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace
            """) {
            shape.foreignKeys.insert("\(key.text("child") ?? "?").\(key.text("column_name") ?? "?") -> \(key.text("parent") ?? "?").\(key.text("parent_column") ?? "?")")
        }
        return shape
    }

    func testBothEnginesHaveTheSameTablesColumnsIndexesAndForeignKeys() throws {
        let sqlite = try sqliteShape(), postgres = try postgresShape()
        XCTAssertEqual(Set(postgres.columns.keys), Set(sqlite.columns.keys))
        for (table, columns) in sqlite.columns.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(postgres.columns[table], columns, table)
        }
        XCTAssertEqual(postgres.searchTables, sqlite.searchTables)
        XCTAssertEqual(postgres.indexes, sqlite.indexes)
        XCTAssertEqual(postgres.foreignKeys, sqlite.foreignKeys)
        // Not vacuous: the schema is really there.
        XCTAssertGreaterThan(sqlite.columns.count, 10)
        XCTAssertGreaterThan(sqlite.foreignKeys.count, 15)
        XCTAssertEqual(sqlite.searchTables.count, 7)
    }

    private let stamp = "2025-05-12T08:30:00.123Z"

    /// Text binds as `text`, which PostgreSQL does not assign to a json column by itself: JSON parameters say `::json`.
    @discardableResult
    private func insertParticipant(name: String, aliases: String = "[]", country: String = "USA") throws -> Int64 {
        let id = try db.scalar("""
            INSERT INTO participants (name, aliases, country, created_at, updated_at) VALUES ($1, $2::json, $3, $4, $4) RETURNING id
            """, [.text(name), .text(aliases), .text(country), .text(stamp)])
        guard case .integer(let id)? = id else { throw PGError(kind: .misuse, message: "no id returned") }
        return id
    }

    private func search(_ table: String, _ words: String) throws -> [Int64] {
        try db.query("SELECT id FROM \(table) WHERE document @@ search_query($1) ORDER BY id", [.text(words)]).compactMap { $0.int("id") }
    }

    func testSearchIgnoresCaseAndAccentsMatchesPrefixesAndFollowsWrites() throws {
        try loadMigrator().migrate(db)
        let bessent = try insertParticipant(name: "Scott Bessent", aliases: #"["Besânt","O'Brien"]"#)
        let he = try insertParticipant(name: "He Lifeng", country: "CHN")
        XCTAssertEqual(try search("participants_fts", "BESSENT"), [bessent])
        XCTAssertEqual(try search("participants_fts", "besant"), [bessent], "an alias, accent folded")
        XCTAssertEqual(try search("participants_fts", "bes sco"), [bessent], "every word a prefix, all required")
        XCTAssertEqual(try search("participants_fts", "he lif"), [he])
        XCTAssertEqual(try search("participants_fts", "o'brien"), [bessent], "punctuation is no query syntax")
        XCTAssertEqual(try search("participants_fts", "bessent lifeng"), [])
        XCTAssertEqual(try search("participants_fts", "!!!"), [], "no word matches nothing")

        try db.run("UPDATE participants SET name = 'Scott Élan', aliases = '[]' WHERE id = $1", [.integer(bessent)])
        XCTAssertEqual(try search("participants_fts", "bessent"), [])
        XCTAssertEqual(try search("participants_fts", "elan"), [bessent])
        try db.run("DELETE FROM participants WHERE id = $1", [.integer(bessent)])
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM participants_fts"), .integer(1))
        XCTAssertEqual(try db.scalar("SELECT casefold('ÉCOLE Ünd')"), .text("école ünd"))
    }

    func testJSONColumnsAnswerTheirTextAsStored() throws {
        try loadMigrator().migrate(db)
        let aliases = #"["Zed","An \u00e9 escape" ]"#
        let id = try insertParticipant(name: "Someone", aliases: aliases)
        XCTAssertEqual(try db.scalar("SELECT aliases FROM participants WHERE id = $1", [.integer(id)]), .text(aliases))
        let changes = #"{"title":{"before":null,"after":"x"},"id":{"before":null,"after":1}}"#
        let seq = try db.scalar("""
            INSERT INTO change_log (at, resource, record_id, action, changes) VALUES ($1, 'sources', 1, 'created', $2::json) RETURNING changes
            """, [.text(stamp), .text(changes)])
        XCTAssertEqual(seq, .text(changes), "field order kept (jsonb would sort the keys)")
    }

    func testTheChecksRefuseWhatTheSQLiteSchemaRefuses() throws {
        try loadMigrator().migrate(db)
        let refused: [(String, [PGValue])] = [
            ("INSERT INTO sources (title, published_on, created_at, updated_at) VALUES ('t', '2025-02-29', $1, $1)", [.text(stamp)]),
            ("INSERT INTO sources (title, created_at, updated_at) VALUES ('t', '2025-05-12T24:00:00.000Z', $1)", [.text(stamp)]),
            ("INSERT INTO sources (title, created_at, updated_at) VALUES ('t', '2025-05-12T08:30:00Z', $1)", [.text(stamp)]),
            ("INSERT INTO sources (title, url, created_at, updated_at) VALUES ('t', 'ftp://x', $1, $1)", [.text(stamp)]),
            ("INSERT INTO sources (title, created_at, updated_at) VALUES ('', $1, $1)", [.text(stamp)]),
            ("INSERT INTO negotiations (slug, title, parties, created_at, updated_at) VALUES ('a', 't', '[\"USA\",\"USA\"]', $1, $1)", [.text(stamp)]),
            ("INSERT INTO negotiations (slug, title, parties, created_at, updated_at) VALUES ('a', 't', '[\"USA\",\"cn\"]', $1, $1)", [.text(stamp)]),
            ("INSERT INTO negotiations (slug, title, parties, created_at, updated_at) VALUES ('A b', 't', '[\"USA\",\"CHN\"]', $1, $1)", [.text(stamp)]),
            ("INSERT INTO participants (name, aliases, country, created_at, updated_at) VALUES ('n', '[1]', 'USA', $1, $1)", [.text(stamp)]),
            ("INSERT INTO participants (name, country, created_at, updated_at) VALUES ('n', 'usa', $1, $1)", [.text(stamp)]),
        ]
        for (sql, values) in refused {
            XCTAssertThrowsError(try db.run(sql, values), sql) { error in
                XCTAssertEqual((error as? PGError)?.sqlState, "23514", "\(sql): \(error)")
            }
        }
        XCTAssertNoThrow(try db.run("INSERT INTO sources (title, published_on, created_at, updated_at) VALUES ('t', '2024-02-29', $1, $1)", [.text(stamp)]))
    }

    /// Seq N+1 can only be taken once the transaction holding N has ended, so commits happen in seq order, and a
    /// rolled-back write gives its number back.
    func testChangeLogSeqsAreHandedOutInCommitOrderWithoutGaps() throws {
        try loadMigrator().migrate(db)
        let first = db!, reader = try database.connect(), url = database.scopedURL
        defer { reader.close() }
        let insert = "INSERT INTO change_log (at, resource, record_id, action, changes) VALUES ($1, 'sources', 1, 'created', '{}') RETURNING seq"
        let secondSeqs = PGLockedResults()

        func secondWriter(then finish: String) -> DispatchGroup {
            let group = DispatchGroup()
            let stamp = self.stamp
            DispatchQueue.global().async(group: group) {
                do {
                    let second = try PGConnection(url)
                    defer { second.close() }
                    try second.execute("BEGIN")
                    let seq = try second.scalar(insert, [.text(stamp)])
                    try second.execute(finish)
                    if case .integer(let seq)? = seq { secondSeqs.append(.success([Int(seq)])) }
                } catch {
                    secondSeqs.append(.failure(error))
                }
            }
            return group
        }

        try first.execute("BEGIN")
        XCTAssertEqual(try first.scalar(insert, [.text(stamp)]), .integer(1))
        let waiting = secondWriter(then: "COMMIT")
        XCTAssertEqual(waiting.wait(timeout: .now() + 0.5), .timedOut, "the second writer waits for the first to end")
        XCTAssertEqual(try reader.scalar("SELECT count(*) FROM change_log"), .integer(0))
        try first.execute("COMMIT")
        XCTAssertEqual(waiting.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(try secondSeqs.all.map { try $0.get() }, [[2]])

        try first.execute("BEGIN")
        XCTAssertEqual(try first.scalar(insert, [.text(stamp)]), .integer(3))
        let afterRollback = secondWriter(then: "COMMIT")
        try first.execute("ROLLBACK")
        XCTAssertEqual(afterRollback.wait(timeout: .now() + 10), .success)
        XCTAssertEqual(try secondSeqs.all.map { try $0.get() }, [[2], [3]], "the rolled-back 3 is handed out again")
        XCTAssertEqual(try reader.query("SELECT seq FROM change_log ORDER BY seq").compactMap { $0.int("seq") }, [1, 2, 3])
        XCTAssertEqual(try reader.scalar("SELECT last_seq FROM change_log_counter"), .integer(3))

        // An explicit seq (an import) raises the counter, so the next write follows it.
        try first.run("INSERT INTO change_log (seq, at, resource, record_id, action, changes) VALUES (10, $1, 'sources', 1, 'created', '{}')", [.text(stamp)])
        XCTAssertEqual(try first.scalar(insert, [.text(stamp)]), .integer(11))
    }
}
