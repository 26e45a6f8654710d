import PostgreSQL
import SQLite

/// Which engine stores the data: SQLite for one process, PostgreSQL for many instances sharing one database.
enum StorageEngine: Sendable, Hashable {
    case sqlite
    case postgres
}

/// The SQL that differs between the engines, in one place: repositories write their statements once, with `?`
/// parameters, and ask the dialect for every piece that is not the same on both. Everything the two share
/// (`RETURNING`, `ON CONFLICT ... DO UPDATE SET x = excluded.x`, `casefold()`, which PostgreSQL's 0001 defines) is
/// still spelled here, so a statement never has to know which engine it runs on.
struct SQLDialect: Sendable, Hashable {
    let engine: StorageEngine

    static let sqlite = SQLDialect(engine: .sqlite)
    static let postgres = SQLDialect(engine: .postgres)

    /// The statement as the engine takes it: PostgreSQL numbers its parameters `$1, $2, ...`.
    func statement(_ sql: String) -> String {
        switch engine {
        case .sqlite: return sql
        case .postgres: return PGPlaceholders.numbered(questionMarks: sql)
        }
    }

    /// The parameter for a value stored in `field`'s column: text binds as `text`, which PostgreSQL does not
    /// assign to a `json` column by itself.
    func parameter(for field: Field) -> String {
        field.isJSONColumn ? jsonParameter : "?"
    }

    /// Whether `jsonParameter` is more than a bare `?` (so a statement's parameters differ by column).
    var castsJSONParameters: Bool { engine == .postgres }

    /// A parameter holding JSON text.
    var jsonParameter: String {
        switch engine {
        case .sqlite: return "?"
        case .postgres: return "?::json"
        }
    }

    /// A FROM item over the elements of the JSON array `expression` (a column or `jsonParameter`), one row each,
    /// its value as `alias.value`: text for strings (PostgreSQL gives every element as text; `integers` casts).
    func jsonArrayElements(_ expression: String, as alias: String, integers: Bool = false) -> String {
        switch engine {
        case .sqlite:
            return "json_each(\(expression)) AS \(alias)"
        case .postgres:
            let elements = "json_array_elements_text(\(expression))"
            return integers ? "(SELECT v::bigint AS value FROM \(elements) AS x(v)) AS \(alias)" : "\(elements) AS \(alias)(value)"
        }
    }

    /// A FROM item over the elements of the JSON array `expression` as JSON values (objects stay objects, for
    /// `alias.value ->> 'key'`), one row each.
    func jsonArrayItems(_ expression: String, as alias: String) -> String {
        switch engine {
        case .sqlite: return "json_each(\(expression)) AS \(alias)"
        case .postgres: return "json_array_elements(\(expression)) AS \(alias)(value)"
        }
    }

    /// The text `expression` (a JSON number read with `->>`) as an integer: SQLite's `->>` gives the number
    /// already, PostgreSQL's gives text.
    func integer(_ expression: String) -> String {
        switch engine {
        case .sqlite: return expression
        case .postgres: return "CAST(\(expression) AS bigint)"
        }
    }

    /// The aggregate joining the text `expression` of a group's rows with `separator` (a literal), in row order.
    func joinedText(_ expression: String, separator: String) -> String {
        switch engine {
        case .sqlite: return "group_concat(\(expression), '\(separator)')"
        case .postgres: return "string_agg(\(expression), '\(separator)')"
        }
    }

    /// `(SELECT value FROM <the bound JSON array>)`, for `column IN` a list bound as one value (`SQLList`), so a
    /// statement stays the same whatever the list's length.
    func boundList(integers: Bool) -> String {
        "(SELECT l.value FROM \(jsonArrayElements(jsonParameter, as: "l", integers: integers)))"
    }

    /// The condition "the record `idColumn` matches the bound search words" over the resource's search table, and
    /// the value to bind for the words the client sent.
    func search(_ idColumn: String, in searchTable: String, words: String) -> (condition: String, value: SQLValue) {
        switch engine {
        case .sqlite:
            return ("\(idColumn) IN (SELECT rowid FROM \(searchTable) WHERE \(searchTable) MATCH ?)", .text(FullTextQuery.make(words)))
        case .postgres:
            // search_query() (0001) splits and folds the words as the documents were; no text is tsquery syntax.
            return ("\(idColumn) IN (SELECT id FROM \(searchTable) WHERE document @@ search_query(?))", .text(words))
        }
    }

    /// `expression` lowercased by Unicode's rules, for case-insensitive comparisons (SQLite: the function the
    /// wrapper registers; PostgreSQL: the one 0001 defines).
    func casefold(_ expression: String) -> String { "casefold(\(expression))" }

    /// One ORDER BY term that places NULL as SQLite does, before every value in ascending order (PostgreSQL's own
    /// default is after), so a list sorted on a nullable column pages in the same order on both engines.
    func orderTerm(_ expression: String, descending: Bool) -> String {
        switch engine {
        case .sqlite: return expression + (descending ? " DESC" : " ASC")
        case .postgres: return expression + (descending ? " DESC NULLS LAST" : " ASC NULLS FIRST")
        }
    }

    /// Appended to an INSERT, UPDATE or DELETE to read back columns of the rows it wrote.
    func returning(_ columns: [String]) -> String { " RETURNING " + columns.joined(separator: ", ") }

    /// The clause that turns an INSERT into an upsert on `key`: the `columns` take the new row's values.
    func upsert(key: [String], set columns: [String]) -> String {
        let assignments = columns.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return " ON CONFLICT (\(key.joined(separator: ", "))) DO UPDATE SET \(assignments)"
    }

    /// Waits until no other transaction holds the lock named by the one text parameter, and holds it to the end of
    /// this one; nil where there is one writer anyway (SQLite). PostgreSQL: a transaction-scoped advisory lock, so
    /// two instances handed the same Idempotency-Key at once run it one after the other and the second replays.
    var transactionKeyLock: String? {
        switch engine {
        case .sqlite: return nil
        case .postgres: return "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))"
        }
    }

    /// Opens the writer's transaction. SQLite: IMMEDIATE takes the write lock up front, so no statement fails
    /// half-way with SQLITE_BUSY. PostgreSQL: READ COMMITTED; `change_log_counter`'s row lock orders the writing
    /// transactions of all instances.
    var beginWrite: String {
        switch engine {
        case .sqlite: return "BEGIN IMMEDIATE TRANSACTION"
        case .postgres: return "BEGIN"
        }
    }

    /// Opens a transaction in which every write fails (`StorageError.Kind.readOnly`): SQLite's readers are read-only
    /// connections already.
    var beginReadOnly: String {
        switch engine {
        case .sqlite: return "BEGIN DEFERRED TRANSACTION"
        case .postgres: return "BEGIN READ ONLY"
        }
    }

    /// Opens a read transaction whose statements all see one snapshot (`SQLExecutor.snapshot`, by hand).
    var beginSnapshot: String {
        switch engine {
        case .sqlite: return "BEGIN DEFERRED TRANSACTION"
        case .postgres: return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        }
    }

    /// The current moment in the API's timestamp format, `2025-05-12T08:30:00.123Z`.
    var now: String {
        switch engine {
        case .sqlite: return "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        case .postgres: return #"to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"#
        }
    }

    /// The highest id `table` has handed out, deleted records' included (0 before the first): SQLite's
    /// AUTOINCREMENT counter, PostgreSQL's identity sequence. Binds nothing.
    func highestIDHandedOut(_ table: String) -> String {
        switch engine {
        case .sqlite:
            return "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '\(table)'), 0)"
        case .postgres:
            // An explicit id (an import) does not move the sequence until the writer raises it before COMMIT, so
            // the table's own highest id counts too: a dry run or the rest of an import sees what it inserted.
            return """
                SELECT GREATEST(COALESCE(pg_sequence_last_value(pg_get_serial_sequence('\(table)', 'id')), 0),
                                COALESCE((SELECT max(id) FROM \(table)), 0))
                """
        }
    }

    /// Whether inserting a record with an explicit id raises the table's id counter by itself (SQLite's
    /// AUTOINCREMENT does; PostgreSQL's identity sequence does not, and setval is not undone by a ROLLBACK).
    var explicitIDsRaiseTheCounter: Bool { engine == .sqlite }

    /// The statements that raise `table`'s id counter to the one bound id (`ResourceStore.retireIDs`, only ever
    /// upwards: the caller checks `highestIDHandedOut` first).
    func retireIDs(_ table: String) -> [String] {
        switch engine {
        case .sqlite:
            return ["DELETE FROM sqlite_sequence WHERE name = '\(table)' AND seq < ?",
                    "INSERT INTO sqlite_sequence (name, seq) SELECT '\(table)', ? WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = '\(table)')"]
        case .postgres:
            let sequence = "pg_get_serial_sequence('\(table)', 'id')"
            return ["SELECT setval(\(sequence), GREATEST(?, COALESCE(pg_sequence_last_value(\(sequence)), 0)))"]
        }
    }

    /// The last change-log seq handed out (0 before the first). Binds nothing.
    var changeLogTip: String {
        switch engine {
        case .sqlite:
            return """
                SELECT max(COALESCE((SELECT MAX(seq) FROM change_log), 0),
                           COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'change_log'), 0))
                """
        case .postgres: return "SELECT last_seq FROM change_log_counter"
        }
    }
}
