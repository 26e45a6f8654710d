import XCTest
@testable import PostgreSQL

/// Pure: password masking of both connection-string forms.
final class PGConninfoTests: XCTestCase {
    func testMasksTheURLPassword() {
        XCTAssertEqual(PGConninfo.masked("postgres://app:s3cr%40t@db.example:5432/tt?sslmode=require"),
                       "postgres://app:***@db.example:5432/tt?sslmode=require")
        XCTAssertEqual(PGConninfo.masked("postgresql://app@127.0.0.1/tt"), "postgresql://app@127.0.0.1/tt")
        XCTAssertEqual(PGConninfo.masked("postgres://app@h/tt?password=hunter22&sslmode=disable"),
                       "postgres://app@h/tt?password=***&sslmode=disable")
    }

    func testMasksTheKeywordPassword() {
        XCTAssertEqual(PGConninfo.masked("host=h password=hunter22 dbname=tt"), "host=h password=*** dbname=tt")
        XCTAssertEqual(PGConninfo.masked("host=h password = 'two words' dbname=tt"), "host=h password = *** dbname=tt")
    }

    func testMasksThePasswordWhereverAMessageRepeatsIt() {
        let conninfo = "postgres://app:s3cr%40t@h/tt"
        XCTAssertEqual(PGConninfo.password(in: conninfo), "s3cr@t")
        XCTAssertEqual(PGConninfo.maskingPassword(of: conninfo, in: "echo s3cr@t echo"), "echo *** echo")
    }

    func testMasksPasswordsLibpqCannotParse() {
        XCTAssertEqual(PGConninfo.masked("postgres://u:s3cr%zzt@h/db"), "postgres://u:***@h/db")
        XCTAssertEqual(PGConninfo.masked("postgres://u:Sup3r/S3cret@h:1/db"), "postgres://u:***@h:1/db")
        XCTAssertEqual(PGConninfo.masked("postgres://u:Sup3r@S3cret@h:1/db"), "postgres://u:***@h:1/db")
        XCTAssertEqual(PGConninfo.masked("host=h password='unterminated secret"), "host=h password=***")
        XCTAssertEqual(PGConninfo.maskingPassword(of: "postgres://u:Sup3r/S3cret@h:1/db", in: #"invalid integer value "Sup3r""#),
                       #"invalid integer value "***""#)
    }

    func testErrorHelpersFollowSQLState() {
        func error(_ state: String?, kind: PGErrorKind = .server) -> PGError {
            PGError(kind: kind, sqlState: state, message: "m")
        }
        XCTAssertTrue(error("23505").isUniqueViolation)
        XCTAssertTrue(error("23503").isForeignKeyViolation)
        XCTAssertTrue(error("23514").isCheckViolation)
        XCTAssertTrue(error("23502").isNotNullViolation)
        XCTAssertTrue(error("40001").isSerializationFailure)
        XCTAssertTrue(error("40P01").isDeadlock)
        XCTAssertTrue(error("25006").isReadOnly)
        XCTAssertTrue(error("53100").isDiskFull)
        XCTAssertTrue(error("08006").isConnectionFailure)
        XCTAssertTrue(error(nil, kind: .connection).isConnectionFailure)
        for state in ["57P01", "57P02", "57P03", "53300", "08001"] {
            XCTAssertTrue(error(state).isUnavailable, state)
        }
        XCTAssertFalse(error("57P01").isConnectionFailure)
        XCTAssertFalse(error("23505").isUnavailable)
        XCTAssertFalse(error("42P01").isConnectionFailure)
        XCTAssertEqual(error("23505").sqlStateClass, "23")
    }
}
