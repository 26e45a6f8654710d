import Foundation
import XCTest
import HTTPServer
@testable import TradeTracker

/// The dashboard page's files: served from public/ at `/`, `/app.js` and `/style.css` with their types, a strong
/// ETag that answers 304, `no-cache`, and a Content-Security-Policy that admits nothing but the page's own origin.
final class DashboardPageTests: XCTestCase {
    func testThePageItsScriptAndStyleSheetAreServedWithETagsAndTheCSP() throws {
        let app = try TestApp()
        defer { app.stop() }
        let client = app.client()
        let public_ = TestApp.packageRoot.appendingPathComponent("public")
        for (path, file, type) in [("/", "index.html", "text/html; charset=utf-8"), ("/app.js", "app.js", "text/javascript; charset=utf-8"),
                                   ("/style.css", "style.css", "text/css; charset=utf-8")] {
            let response = try client.request("GET", path)
            XCTAssertEqual(response.status, 200, path)
            XCTAssertEqual(response.headers["Content-Type"], type, path)
            XCTAssertEqual(response.body, Array(try Data(contentsOf: public_.appendingPathComponent(file))), path)
            XCTAssertEqual(response.headers["Cache-Control"], "no-cache")
            XCTAssertTrue(response.headers["Content-Security-Policy"]?.hasPrefix("default-src 'self'") ?? false)
            XCTAssertEqual(response.headers["X-Content-Type-Options"], "nosniff")
            let tag = try XCTUnwrap(response.headers["ETag"])
            let again = try client.request("GET", path, headers: [("If-None-Match", tag)])
            XCTAssertEqual(again.status, 304, path)
            XCTAssertTrue(again.body.isEmpty)
            XCTAssertEqual(again.headers["ETag"], tag)
            let head = try client.request("HEAD", path)
            XCTAssertEqual(head.status, 200)
            XCTAssertEqual(head.headers["Content-Length"], String(response.body.count))
        }
        XCTAssertEqual(try client.request("GET", "/index.html").status, 404, "the page has one address")
        XCTAssertEqual(try client.request("GET", "/devproxy.py").status, 404)
    }

    func testThePageUsesNothingFromAnotherOriginAndNoInlineCode() throws {
        let page = try String(contentsOf: TestApp.packageRoot.appendingPathComponent("public/index.html"), encoding: .utf8)
        XCTAssertFalse(page.contains("http://") || page.contains("https://"), "no third-party assets")
        XCTAssertNil(page.range(of: #"<script(?![^>]*\bsrc=)"#, options: .regularExpression), "no inline script (CSP forbids it)")
        XCTAssertNil(page.range(of: "<style", options: .caseInsensitive), "no inline style sheet")
        XCTAssertNil(page.range(of: #"\sstyle=""#, options: .regularExpression), "no style attributes")
        XCTAssertNil(page.range(of: #"\son[a-z]+=""#, options: .regularExpression), "no inline event handlers")
    }

    func testTheStartupLogNamesThePageAddress() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tt-page-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log.txt")
        XCTAssertTrue(FileManager.default.createFile(atPath: log.path, contents: nil))
        let handle = try FileHandle(forWritingTo: log)
        let app = try TradeTrackerApp(configuration: TestApp.configuration(directory: directory),
                                      logger: Logger(minimumLevel: .info, fd: handle.fileDescriptor))
        try app.start()
        app.shutdown()
        try handle.close()
        let text = try String(contentsOf: log, encoding: .utf8)
        XCTAssertTrue(text.contains("dashboard: open http://127.0.0.1:\(app.port)/ in a browser"), text)
    }
}
