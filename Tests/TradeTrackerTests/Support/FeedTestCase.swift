import Foundation
import XCTest
import HTTPServer
@testable import TradeTracker

/// What the change-feed test classes share: a server with tokens, and the streams and parked polls to close.
class FeedTestCase: XCTestCase {
    var testApp: TestApp?
    var api: ResourceAPI!
    var streams: [EventStreamClient] = []
    var pollers: [TestClient] = []

    override func tearDown() {
        for stream in streams { stream.close() }
        streams = []
        for poller in pollers { poller.disconnect() }
        pollers = []
        testApp?.stop()
        testApp = nil
        api = nil
    }

    func start(_ configure: @escaping (inout AppConfiguration) -> Void = { _ in }) throws {
        let app = try TestApp { configuration in
            configuration.tokens = Fixtures.tokens
            configure(&configuration)
        }
        testApp = app
        api = ResourceAPI(app)
    }
}
