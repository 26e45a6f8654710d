import Foundation
import HTTPServer
import PostgreSQL
import SQLite
import XCTest
@testable import TradeTracker

/// The repository layer's connection protocol: the same repository code, the same statements, the same results
/// and the same product problems on both engines.
final class SQLExecutorTests: PostgresTestCase {
    private var sqlite: SQLiteConnection!

    override func setUpWithError() throws {
        try super.setUpWithError()
        sqlite = try SQLiteConnection(path: ":memory:")
        try Migrator.load(directory: TestApp.packageRoot.appendingPathComponent("migrations").path).migrate(sqlite)
        try loadMigrator().migrate(db)
    }

    override func tearDown() {
        sqlite?.close()
        super.tearDown()
    }

    /// Both engines' executors, named for failure messages.
    private func engines() -> [(String, any SQLExecutor)] {
        [("sqlite", sqlite), ("postgres", PostgresExecutor(db))]
    }

    private let context = WriteContext(actor: "tester", requestID: "req-1", now: "2025-05-12T08:30:00.123Z",
                                       today: CalendarDate(year: 2025, month: 5, day: 12)!)

    private func negotiation(_ slug: String, parties: String = #"["USA","CHN"]"#) -> RecordValues {
        ["slug": .text(slug), "title": .text("Tariff truce, Genève"), "parties": .text(parties), "status": .text("active")]
    }

    func testInsertAndFindGiveTheSameRecordOnBothEngines() throws {
        let store = ResourceStore(spec: Negotiations.spec)
        var rows: [String: Row] = [:]
        for (name, db) in engines() {
            let id = try db.transaction { try store.insert(db, negotiation("us-cn"), context: context) }
            XCTAssertEqual(id, 1, name)
            let row = try XCTUnwrap(try store.find(db, id: id), name)
            rows[name] = row
            XCTAssertNil(try store.find(db, id: 99), name)
            let change = try XCTUnwrap(try db.queryOne("SELECT seq, resource, record_id, action, actor, changes FROM change_log", []), name)
            XCTAssertEqual(change.int("seq"), 1, name)
            XCTAssertEqual(change.text("action"), "created", name)
            XCTAssertEqual(change.text("actor"), "tester", name)
            XCTAssertTrue(change.text("changes")?.hasPrefix(#"{"slug":{"before":null,"after":"us-cn"}"#) ?? false, "\(name): \(change)")
        }
        let sqliteRow = try XCTUnwrap(rows["sqlite"]), postgresRow = try XCTUnwrap(rows["postgres"])
        XCTAssertEqual(postgresRow.columns, sqliteRow.columns)
        XCTAssertEqual(postgresRow.values, sqliteRow.values, "JSON text, timestamps and integers alike")
    }

    func testAUniqueViolationIsTheSame409OnBothEngines() throws {
        let store = ResourceStore(spec: Negotiations.spec)
        let logger = Logger(minimumLevel: .error)
        var problems: [Problem] = []
        for (name, db) in engines() {
            _ = try store.insert(db, negotiation("us-cn"), context: context)
            XCTAssertThrowsError(try store.insert(db, negotiation("us-cn"), context: context), name) { error in
                guard let error = StorageError(sorting: error) else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(error.kind, .uniqueViolation(column: "slug"), name)
                problems.append(StorageErrors.problem(for: error, logger: logger))
            }
            XCTAssertThrowsError(try store.insert(db, negotiation("other", parties: #"["USA"]"#), context: context), name) { error in
                XCTAssertEqual(StorageError(sorting: error)?.kind, .constraintViolation, name)
            }
        }
        XCTAssertEqual(problems.map(\.status), [409, 409])
        XCTAssertEqual(problems.map(\.detail), ["another record already has this slug", "another record already has this slug"])
    }

    func testATransactionThatThrowsLeavesNothingOnBothEngines() throws {
        let store = ResourceStore(spec: Negotiations.spec)
        for (name, db) in engines() {
            XCTAssertThrowsError(try db.transaction {
                _ = try store.insert(db, negotiation("gone"), context: context)
                _ = try store.insert(db, negotiation("gone"), context: context)
            }, name)
            XCTAssertEqual(try db.scalar("SELECT count(*) FROM negotiations", []), .integer(0), name)
            XCTAssertEqual(try db.scalar("SELECT count(*) FROM change_log", []), .integer(0), name)
        }
    }

    func testTheDialectsFilterSearchAndCountAlike() throws {
        let store = ResourceStore(spec: Negotiations.spec)
        for (name, db) in engines() {
            let d = db.dialect
            _ = try store.insert(db, negotiation("us-cn"), context: context)
            _ = try store.insert(db, negotiation("eu-jp", parties: #"["EUN","JPN"]"#), context: context)
            // SQLite indexes new records when the writer flushes search_pending before COMMIT (0006); PostgreSQL in
            // the writing statement.
            if d.engine == .sqlite { try db.run(SearchIndex.flushSQL, []) }
            let party = "SELECT id FROM negotiations t WHERE EXISTS (SELECT 1 FROM \(d.jsonArrayElements("t.parties", as: "e")) WHERE e.value IN \(d.boundList(integers: false))) ORDER BY id"
            XCTAssertEqual(try db.query(party, [SQLList.values(["JPN", "XXX"], asIntegers: false)]).map { $0.int("id") }, [2], name)
            let ids = "SELECT id FROM negotiations WHERE id IN \(d.boundList(integers: true)) ORDER BY id"
            XCTAssertEqual(try db.query(ids, [SQLList.ids([2, 1, 7])]).map { $0.int("id") }, [1, 2], name)
            let search = d.search("t.id", in: "negotiations_fts", words: "GENEVE tru")
            XCTAssertEqual(try db.query("SELECT id FROM negotiations t WHERE \(search.condition) ORDER BY id", [search.value]).map { $0.int("id") }, [1, 2], name)
            let folded = "SELECT id FROM negotiations WHERE \(d.casefold("title")) = \(d.casefold("?")) ORDER BY id"
            XCTAssertEqual(try db.query(folded, [.text("TARIFF TRUCE, GENÈVE")]).map { $0.int("id") }, [1, 2], name)
            XCTAssertEqual(try db.scalar(d.highestIDHandedOut("negotiations"), []), .integer(2), name)
            XCTAssertEqual(try db.scalar(d.changeLogTip, []), .integer(2), name)
            XCTAssertEqual(try db.scalar("SELECT sum(version) FROM negotiations", []), .integer(2), name)
            let now = try XCTUnwrap(try db.scalar("SELECT \(d.now)", []), name)
            guard case .text(let text) = now, text.count == 24, text.hasSuffix("Z") else { return XCTFail("\(name): \(now)") }
            let upsert = "INSERT INTO app_settings (name, value) VALUES (?, ?)" + d.upsert(key: ["name"], set: ["value"]) + d.returning(["value"])
            XCTAssertEqual(try db.scalar(upsert, [.text("k"), .text("1")]), .text("1"), name)
            XCTAssertEqual(try db.scalar(upsert, [.text("k"), .text("2")]), .text("2"), name)
            XCTAssertEqual(try db.run("DELETE FROM app_settings WHERE name = ?", [.text("k")]), 1, name)
        }
    }

    func testNullsSortAsSQLiteSortsThemOnBothEngines() throws {
        var orders: [[Int64?]] = []
        for (name, db) in engines() {
            for (title, day) in [("b", "2025-03-01"), ("a", nil), ("c", "2025-01-01")] as [(String, String?)] {
                try db.run("INSERT INTO sources (title, published_on, created_at, updated_at) VALUES (?, ?, ?, ?)",
                           [.text(title), day.map(SQLValue.text) ?? .null, .text(context.now), .text(context.now)])
            }
            for descending in [false, true] {
                let order = db.dialect.orderTerm("published_on", descending: descending) + ", " + db.dialect.orderTerm("id", descending: descending)
                orders.append(try db.query("SELECT id FROM sources ORDER BY \(order)", []).map { $0.int("id") })
            }
            XCTAssertEqual(orders.suffix(2), [[2, 3, 1], [1, 3, 2]], name)
        }
    }

    /// What only PostgreSQL's foreign keys can catch (another instance deleted the record, or added a referrer, after
    /// the repository's check) answers as the checks do: 422 naming the field, 409 `referenced`.
    func testAForeignKeyRefusalOnPostgreSQLAnswersAsTheReferenceChecksDo() throws {
        let executor = PostgresExecutor(db)
        let negotiations = ResourceStore(spec: Negotiations.spec), rounds = ResourceStore(spec: Rounds.spec)
        let negotiation = try negotiations.insert(executor, negotiation("us-cn"), context: context)
        func round(_ negotiationID: Int64) -> RecordValues {
            ["negotiation_id": .integer(negotiationID), "sequence": 1, "title": "Geneva", "city": "Geneva", "country": "CHE",
             "starts_on": "2025-05-10", "ends_on": "2025-05-12", "status": "concluded"]
        }
        XCTAssertThrowsError(try executor.transaction {
            try rounds.answeringForeignKeys(round(999)) { try rounds.insert(executor, round(999), context: context) }
        }) { error in
            let problem = error as? Problem
            XCTAssertEqual(problem?.status, 422, "\(error)")
            XCTAssertEqual(problem?.errors.map(\.pointer), ["/negotiation_id"])
            XCTAssertEqual(problem?.errors.first?.message, "refers to a negotiation that does not exist (id 999)")
        }
        _ = try rounds.insert(executor, round(negotiation), context: context)
        let old = ResourceStore.values(of: try XCTUnwrap(try negotiations.find(executor, id: negotiation)), spec: Negotiations.spec)
        XCTAssertThrowsError(try executor.transaction {
            try negotiations.answeringForeignKeys(nil) { try negotiations.delete(executor, id: negotiation, old: old, context: context) }
        }) { error in
            let problem = error as? Problem
            XCTAssertEqual(problem?.status, 409, "\(error)")
            XCTAssertEqual(problem?.code, "referenced")
            XCTAssertTrue(problem?.detail?.contains("rounds") ?? false, problem?.detail ?? "")
        }
        XCTAssertNotNil(try negotiations.find(executor, id: negotiation), "the refused delete was rolled back")
    }

    /// An explicit id (an import) counts as handed out within its transaction, and is retired in the sequence only
    /// when the writer raises the counter: a rolled-back import retires nothing.
    func testExplicitIDsOnPostgreSQLCountAsHandedOutOnlyWhereTheyAreSeen() throws {
        let executor = PostgresExecutor(db)
        let store = ResourceStore(spec: Negotiations.spec)
        XCTAssertThrowsError(try executor.transaction {
            _ = try store.insert(executor, negotiation("imported"), stamp: RecordStamp(id: 40), context: context)
            XCTAssertEqual(try store.highestIDHandedOut(executor), 40, "the transaction sees its own explicit id")
            throw APIError.notFound(detail: "rolled back")
        })
        XCTAssertEqual(try store.highestIDHandedOut(executor), 0, "nothing retired by a rolled-back import")
        try executor.transaction {
            _ = try store.insert(executor, negotiation("imported"), stamp: RecordStamp(id: 40), context: context)
            try ResourceStore.raiseIDCounter("negotiations", to: 40, executor)
        }
        XCTAssertEqual(try store.insert(executor, negotiation("next"), context: context), 41, "the next id follows the import")
    }

    func testStorageErrorSortsEachEnginesFailures() {
        XCTAssertEqual(StorageError(PGError(kind: .connection, message: "gone")).kind, .unreachable)
        XCTAssertEqual(StorageError(PGError(kind: .server, sqlState: "57P01", message: "shutdown")).kind, .unreachable)
        XCTAssertEqual(StorageError(PGError(kind: .server, sqlState: "53300", message: "too many clients")).kind, .unavailable)
        XCTAssertEqual(StorageError(PGError(kind: .server, sqlState: "40001", message: "serialize")).kind, .serializationFailure)
        XCTAssertEqual(StorageError(PGError(kind: .server, sqlState: "53100", message: "disk full")).kind, .storageFault)
        XCTAssertEqual(StorageError(PGError(kind: .server, sqlState: "40P01", message: "deadlock")).kind, .serializationFailure)
        XCTAssertEqual(StorageError(PGError(kind: .server, sqlState: "23503", message: "fk")).kind, .foreignKeyViolation(detail: nil))
        XCTAssertEqual(StorageError(PGError(kind: .server, sqlState: "23514", message: "check")).kind, .constraintViolation)
        XCTAssertEqual(StorageError(PGError(kind: .server, sqlState: "25006", message: "read-only transaction")).kind, .readOnly)
        XCTAssertEqual(StorageError(SQLiteError(code: 8, message: "attempt to write a readonly database")).kind, .readOnly)
        XCTAssertEqual(StorageError(PGError(kind: .server, sqlState: "42601", message: "syntax")).kind, .other)
        XCTAssertEqual(StorageError.keyColumns("Key (negotiation_id, sequence)=(1, 2) already exists."), "sequence")
        XCTAssertEqual(StorageError.keyColumns("something else"), nil)
        XCTAssertEqual(StorageError(SQLiteError(code: 5, message: "database is locked")).kind, .unavailable)
        XCTAssertEqual(StorageError(SQLiteError(code: 13, message: "database or disk is full")).kind, .storageFault)
    }
}
