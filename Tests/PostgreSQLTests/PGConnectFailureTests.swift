import XCTest
@testable import PostgreSQL

/// Needs no server: every URL here fails before or while connecting.
final class PGConnectFailureTests: XCTestCase {
    func testBadURLsFailWithTheirPasswordMasked() {
        let secret = "Sup3rS3cret"
        let urls = [
            "postgres://trade_tracker:\(secret)@127.0.0.1:notaport/trade_tracker_test",
            "postgres://trade_tracker:\(secret)@127.0.0.1:1/trade_tracker_test?connect_timeout=2",
            "host=127.0.0.1 port=1 user=trade_tracker password=\(secret) connect_timeout=2",
            "postgres://trade_tracker:\(secret)@127.0.0.1/db?nosuchoption=1",
            // libpq cannot parse these, and its messages quote what it read instead.
            "postgres://trade_tracker:\(secret)%zz@127.0.0.1:1/db",
            "postgres://trade_tracker:Sup3r/S3cret@127.0.0.1:1/db",
            "postgres://trade_tracker:Sup3r@S3cret@127.0.0.1:1/db",
            "host=127.0.0.1 password='\(secret)",
        ]
        for url in urls {
            XCTAssertThrowsPGError(try PGConnection(url)) { error in
                XCTAssertEqual(error.kind, .connection, url)
                XCTAssertTrue(error.isConnectionFailure, url)
                for piece in [secret, "Sup3r", "S3cret"] {
                    XCTAssertFalse(error.message.contains(piece), error.message)
                    XCTAssertFalse(error.description.contains(piece), error.description)
                }
                XCTAssertTrue(error.message.contains("***"), error.message)
            }
        }
        XCTAssertThrowsPGError(try PGConnection(urls[1])) { error in
            XCTAssertTrue(error.isUnavailable)
            XCTAssertTrue(error.message.contains("127.0.0.1"), error.message)
        }
    }
}
