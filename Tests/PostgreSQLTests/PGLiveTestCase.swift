import XCTest
import PGTestSupport
@testable import PostgreSQL

/// Base of the tests that talk to the server: a fresh schema and one connection to it per
/// test, both gone afterwards. Skips (naming the cluster script) when TT_POSTGRES_URL is unset.
class PGLiveTestCase: XCTestCase {
    var database: PGTestDatabase!
    var db: PGConnection!

    override func setUpWithError() throws {
        database = try PGTestDatabase()
        db = try database.connect()
    }

    override func tearDown() {
        db?.close()
        database?.drop()
    }
}
