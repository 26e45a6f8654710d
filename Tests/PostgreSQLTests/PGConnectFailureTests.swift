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
        ]
        for url in urls {
            XCTAssertThrowsPGError(try PGConnection(url)) { error in
                XCTAssertEqual(error.kind, .connection, url)
                XCTAssertTrue(error.isConnectionFailure, url)
                XCTAssertFalse(error.message.contains(secret), error.message)
                XCTAssertFalse(error.description.contains(secret), error.description)
                XCTAssertTrue(error.message.contains("***"), error.message)
            }
        }
        XCTAssertThrowsPGError(try PGConnection(urls[1])) { error in
            XCTAssertTrue(error.isUnavailable)
            XCTAssertTrue(error.message.contains("127.0.0.1"), error.message)
        }
    }
}
