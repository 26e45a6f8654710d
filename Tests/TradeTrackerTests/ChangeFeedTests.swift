import JSON
import Foundation
import XCTest
import HTTPServer
@testable import TradeTracker

/// API.md §4, the change feed, end to end over real sockets: pages (`since`, `limit`, `last_seq`, `resource`),
/// one change per write, long polling, Server-Sent Events with reconnects, heartbeats, many open streams, shutdown.
final class ChangeFeedTests: FeedTestCase {

    private var port: Int { testApp!.port }

    // MARK: helpers

    /// GET /v1/changes?`query`: asserts 200 and returns the items and `last_seq`.
    private func page(_ query: String, file: StaticString = #filePath, line: UInt = #line) throws -> (items: [JSONValue], lastSeq: Int) {
        let response = try api.get("/v1/changes" + (query.isEmpty ? "" : "?" + query))
        XCTAssertEqual(response.status, 200, "\(query): \(response.text)", file: file, line: line)
        XCTAssertEqual(response.headers["Content-Type"], "application/json; charset=utf-8", file: file, line: line)
        let json = try response.json()
        XCTAssertEqual(json.keys, ["data", "last_seq"], response.text, file: file, line: line)
        let items = try XCTUnwrap(json["data"]?.arrayValue, response.text, file: file, line: line)
        let lastSeq = try XCTUnwrap(json["last_seq"]?.intValue, response.text, file: file, line: line)
        return (items, lastSeq)
    }

    private func seqs(_ items: [JSONValue]) -> [Int] { items.map { $0["seq"]?.intValue ?? -1 } }

    /// The newest seq, as `since=now` reports it.
    private func tip(file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let (items, lastSeq) = try page("since=now", file: file, line: line)
        XCTAssertEqual(items.count, 0, "since=now has no items", file: file, line: line)
        return lastSeq
    }

    /// A change item with exactly the fields of API.md §4, in order, and these values.
    private func assertChange(_ item: JSONValue?, seq: Int, resource: String, id: Int, action: String, requestID: String?,
                              actor: String? = "writer", file: StaticString = #filePath, line: UInt = #line) {
        guard let item else { return XCTFail("no change item", file: file, line: line) }
        XCTAssertEqual(item.keys, ["seq", "at", "resource", "id", "action", "actor", "request_id"], file: file, line: line)
        XCTAssertEqual(item["seq"], .int(seq), "seq", file: file, line: line)
        XCTAssertTrue(Fixtures.isTimestamp(item["at"]?.stringValue), "at: \(item["at"] ?? .null)", file: file, line: line)
        XCTAssertEqual(item["resource"], .string(resource), "resource", file: file, line: line)
        XCTAssertEqual(item["id"], .int(id), "id", file: file, line: line)
        XCTAssertEqual(item["action"], .string(action), "action", file: file, line: line)
        XCTAssertEqual(item["actor"], actor.map(JSONValue.string) ?? .null, "actor", file: file, line: line)
        XCTAssertEqual(item["request_id"], requestID.map(JSONValue.string) ?? .null, "request_id", file: file, line: line)
    }

    /// Opens an event stream, asserts the streaming head, and waits until the server has subscribed it.
    private func openStream(_ query: String = "", lastEventID: String? = nil,
                            file: StaticString = #filePath, line: UInt = #line) throws -> EventStreamClient {
        let stream = try EventStreamClient(port: port, path: "/v1/changes" + (query.isEmpty ? "" : "?" + query),
                                           lastEventID: lastEventID)
        streams.append(stream)
        XCTAssertEqual(stream.status, 200, stream.text, file: file, line: line)
        XCTAssertEqual(stream.headers["Content-Type"], "text/event-stream; charset=utf-8", file: file, line: line)
        XCTAssertEqual(stream.headers["Cache-Control"], "no-store", file: file, line: line)
        XCTAssertNil(stream.headers["Content-Length"], "a stream has no length", file: file, line: line)
        try stream.waitForRetry()
        XCTAssertEqual(stream.retry, 3000, file: file, line: line)
        return stream
    }

    /// The next event must be the change `seq` with this action, its data the same change the page shows.
    @discardableResult
    private func assertNextEvent(_ stream: EventStreamClient, seq: Int, action: String, resource: String, id: Int,
                                 file: StaticString = #filePath, line: UInt = #line) throws -> EventStreamClient.Event {
        let event = try stream.nextEvent(timeout: .seconds(5))
        XCTAssertEqual(event.id, String(seq), "event id is the seq: \(event)", file: file, line: line)
        XCTAssertEqual(event.event, action, "event name is the action: \(event)", file: file, line: line)
        let data = try event.json()
        XCTAssertEqual(data["seq"], .int(seq), file: file, line: line)
        XCTAssertEqual(data["resource"], .string(resource), file: file, line: line)
        XCTAssertEqual(data["id"], .int(id), file: file, line: line)
        XCTAssertEqual(data["action"], .string(action), file: file, line: line)
        let (items, _) = try page("since=\(seq - 1)&limit=1", file: file, line: line)
        XCTAssertEqual(data, items.first, "the event's data is the change as the page shows it", file: file, line: line)
        XCTAssertEqual(event.lines, ["id: \(seq)", "event: \(action)", "data: \(event.data)"], file: file, line: line)
        return event
    }

    /// Sends a long poll on its own connection without waiting for the answer.
    private func startLongPoll(_ query: String) throws -> TestClient {
        let poller = testApp!.client()
        pollers.append(poller)
        try poller.sendRaw(Array("GET /v1/changes?\(query) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        return poller
    }

    private func bodyOf(_ response: TestResponse) throws -> (items: [JSONValue], lastSeq: Int) {
        let json = try response.json()
        XCTAssertEqual(json.keys, ["data", "last_seq"], response.text)
        return (try XCTUnwrap(json["data"]?.arrayValue), try XCTUnwrap(json["last_seq"]?.intValue))
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    // MARK: pages

    func testPagesFollowSinceAndLimitWithLastSeqOfAFullPageOrTheTip() throws {
        try start()
        var (items, lastSeq) = try page("")
        XCTAssertEqual(items.count, 0, "a fresh database has an empty log")
        XCTAssertEqual(lastSeq, 0)
        XCTAssertEqual(try tip(), 0)

        var ids: [Int] = []
        var requestIDs: [String?] = []
        for n in 1...5 {
            let response = try api.post("/v1/sources", #"{"title":"source \#(n)"}"#)
            XCTAssertEqual(response.status, 201, response.text)
            ids.append(try XCTUnwrap(try response.json()["id"]?.intValue))
            requestIDs.append(response.headers["X-Request-ID"])
        }

        (items, lastSeq) = try page("")
        XCTAssertEqual(seqs(items), [1, 2, 3, 4, 5])
        XCTAssertEqual(lastSeq, 5)
        for (index, item) in items.enumerated() {
            assertChange(item, seq: index + 1, resource: "sources", id: ids[index], action: "created", requestID: requestIDs[index])
        }

        // Full pages end at their last item; the partial last page and the empty page report the tip.
        (items, lastSeq) = try page("since=0&limit=2")
        XCTAssertEqual(seqs(items), [1, 2])
        XCTAssertEqual(lastSeq, 2)
        (items, lastSeq) = try page("since=\(lastSeq)&limit=2")
        XCTAssertEqual(seqs(items), [3, 4])
        XCTAssertEqual(lastSeq, 4)
        (items, lastSeq) = try page("since=\(lastSeq)&limit=2")
        XCTAssertEqual(seqs(items), [5])
        XCTAssertEqual(lastSeq, 5)
        (items, lastSeq) = try page("since=\(lastSeq)&limit=2")
        XCTAssertEqual(seqs(items), [])
        XCTAssertEqual(lastSeq, 5)
        // A page exactly as long as what is left is full: its last_seq is its last item (= the tip here).
        (items, lastSeq) = try page("since=3&limit=2")
        XCTAssertEqual(seqs(items), [4, 5])
        XCTAssertEqual(lastSeq, 5)
        (items, lastSeq) = try page("since=1&limit=500")
        XCTAssertEqual(seqs(items), [2, 3, 4, 5])
        XCTAssertEqual(lastSeq, 5)

        // since=now starts at the tip, and the next write is the first thing after it.
        (items, lastSeq) = try page("since=now&limit=3")
        XCTAssertEqual(seqs(items), [])
        XCTAssertEqual(lastSeq, 5)
        let sixth = try api.source(title: "source 6")
        (items, lastSeq) = try page("since=5")
        XCTAssertEqual(seqs(items), [6])
        XCTAssertEqual(items.first?["id"], .int(sixth))
        XCTAssertEqual(lastSeq, 6)
        XCTAssertEqual(try tip(), 6)

        // Pages are ordinary JSON GETs: strong ETag, conditional.
        let response = try api.get("/v1/changes?since=2")
        let tag = try XCTUnwrap(response.headers["ETag"])
        XCTAssertEqual(response.headers["Cache-Control"], "private, no-cache")
        XCTAssertEqual(try api.get("/v1/changes?since=2", headers: [("If-None-Match", tag)]).status, 304)
        _ = try api.source(title: "source 7")
        XCTAssertEqual(try api.get("/v1/changes?since=2", headers: [("If-None-Match", tag)]).status, 200)
    }

    func testDefaultLimitIs50() throws {
        try start()
        for n in 1...52 { try api.source(title: "bulk \(n)") }
        var (items, lastSeq) = try page("since=0")
        XCTAssertEqual(seqs(items), Array(1...50))
        XCTAssertEqual(lastSeq, 50, "a full default page ends at its last item")
        (items, lastSeq) = try page("since=\(lastSeq)")
        XCTAssertEqual(seqs(items), [51, 52])
        XCTAssertEqual(lastSeq, 52)
    }

    func testResourceFilterIncludingCommaSeparatedLists() throws {
        try start()
        let n1 = try api.negotiation()      // 1
        let s1 = try api.source()           // 2
        let n2 = try api.negotiation()      // 3
        let p1 = try api.participant()      // 4
        let s2 = try api.source()           // 5
        XCTAssertEqual(try tip(), 5)

        var (items, lastSeq) = try page("resource=negotiations")
        XCTAssertEqual(seqs(items), [1, 3])
        XCTAssertEqual(items.map { $0["id"]?.intValue ?? -1 }, [n1, n2])
        XCTAssertEqual(lastSeq, 5, "a partial filtered page looked at everything up to the tip")

        (items, lastSeq) = try page("resource=negotiations&limit=1")
        XCTAssertEqual(seqs(items), [1])
        XCTAssertEqual(lastSeq, 1, "a full page ends at its last item")
        (items, lastSeq) = try page("resource=negotiations&limit=1&since=\(lastSeq)")
        XCTAssertEqual(seqs(items), [3])
        XCTAssertEqual(lastSeq, 3)
        (items, lastSeq) = try page("resource=negotiations&limit=1&since=\(lastSeq)")
        XCTAssertEqual(seqs(items), [])
        XCTAssertEqual(lastSeq, 5)

        (items, lastSeq) = try page("resource=negotiations,participants")
        XCTAssertEqual(seqs(items), [1, 3, 4])
        XCTAssertEqual(items.map { $0["resource"]?.stringValue ?? "" }, ["negotiations", "negotiations", "participants"])
        XCTAssertEqual(items[2]["id"], .int(p1))
        XCTAssertEqual(lastSeq, 5)

        (items, lastSeq) = try page("resource=sources&resource=participants")
        XCTAssertEqual(seqs(items), [2, 4, 5], "repeating resource= adds to the set")
        XCTAssertEqual(items.map { $0["id"]?.intValue ?? -1 }, [s1, p1, s2])
        XCTAssertEqual(lastSeq, 5)

        (items, lastSeq) = try page("resource=negotiations,negotiations&since=1")
        XCTAssertEqual(seqs(items), [3], "a resource named twice is still one filter")
        XCTAssertEqual(lastSeq, 5)

        (items, lastSeq) = try page("resource=rounds")
        XCTAssertEqual(seqs(items), [])
        XCTAssertEqual(lastSeq, 5)
    }

    func testBadParametersAre400NamingTheParameterAndSinceAheadIs410() throws {
        try start()
        try api.source()
        try api.source()
        let bad: [(String, String)] = [
            ("since=-1", "since"), ("since=abc", "since"), ("since=1.5", "since"), ("since=", "since"), ("since=NOW", "since"),
            ("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"), ("limit=-3", "limit"),
            ("wait=61", "wait"), ("wait=-1", "wait"), ("wait=1.5", "wait"), ("wait=soon", "wait"),
            ("resource=bogus", "resource"), ("resource=rounds,bogus", "resource"), ("resource=", "resource"),
            ("resource=rounds,", "resource"), ("resource=Rounds", "resource"),
            ("foo=1", "foo"), ("since=0&cursor=abc", "cursor"), ("since=1&since=2", "since"), ("limit=1&limit=1", "limit"),
        ]
        for (query, parameter) in bad {
            assertBadParameter(try api.get("/v1/changes?" + query), parameter, query)
        }
        // Last-Event-ID is checked on a JSON page too (openapi.yaml's one rule for it); empty is absent.
        for value in ["abc", "-1", "1.5", "1 2", "99999999999999999999", "00000000000000000000"] {
            let page = try api.get("/v1/changes?since=0", headers: [("Last-Event-ID", value)])
            XCTAssertEqual(Problems.assertProblem(page, status: 400, code: "invalid_parameter")?["detail"]?.stringValue?
                .hasPrefix("Last-Event-ID"), true, value)
        }
        XCTAssertEqual(try api.get("/v1/changes?since=0", headers: [("Last-Event-ID", "")]).status, 200)
        XCTAssertEqual(try api.get("/v1/changes?since=0", headers: [("Last-Event-ID", "1")]).data().count, 2,
                       "a page follows since, not Last-Event-ID")
        // The stream validates the same parameters before it starts.
        let stream = try EventStreamClient(port: port, path: "/v1/changes?limit=0")
        streams.append(stream)
        XCTAssertEqual(stream.status, 400, stream.text)
        XCTAssertEqual(stream.headers["Content-Type"], "application/problem+json")
        XCTAssertEqual((try JSONParser.parse(stream.body))["errors"]?.arrayValue?.first?["pointer"], .string("?limit"))
        let badID = try EventStreamClient(port: port, path: "/v1/changes", lastEventID: "seven")
        streams.append(badID)
        XCTAssertEqual(badID.status, 400, badID.text)
        XCTAssertEqual((try JSONParser.parse(badID.body))["code"], .string("invalid_parameter"))

        // Ahead of the log: 410 telling the client to reload; at the tip is fine.
        XCTAssertEqual(try page("since=2").items.count, 0)
        let gone = try api.get("/v1/changes?since=3")
        Problems.assertProblem(gone, status: 410, code: "gone")
        Problems.assertProblem(try api.get("/v1/changes?since=999&wait=1"), status: 410, code: "gone")
    }

    // MARK: one change per write

    func testEveryWriteProducesExactlyOneChangeWithItsRequestID() throws {
        try start()
        let negotiation = try api.negotiation()
        let round = try api.round(negotiation: negotiation)
        let participant = try api.participant()
        let issue = try api.issue(negotiation: negotiation)
        let statement = try api.statement()
        let source = try api.source()
        let measure = try api.tariffMeasure()

        struct Write {
            var method: String, path: String, body: String?, resource: String, id: Int?, action: String
        }
        let writes: [Write] = [
            Write(method: "POST", path: "/v1/negotiations", body: #"{"slug":"feed-one","title":"T","parties":["USA","CHN"]}"#,
                  resource: "negotiations", id: nil, action: "created"),
            Write(method: "PATCH", path: "/v1/negotiations/\(negotiation)", body: #"{"title":"Renamed"}"#,
                  resource: "negotiations", id: negotiation, action: "updated"),
            Write(method: "PATCH", path: "/v1/rounds/\(round)", body: #"{"city":"London"}"#, resource: "rounds", id: round, action: "updated"),
            Write(method: "POST", path: "/v1/participants", body: #"{"name":"He Lifeng","country":"CHN"}"#,
                  resource: "participants", id: nil, action: "created"),
            Write(method: "PATCH", path: "/v1/issues/\(issue)", body: #"{"title":"Tariff truce"}"#, resource: "issues", id: issue, action: "updated"),
            Write(method: "POST", path: "/v1/issues/\(issue)/updates", body: #"{"note":"Talks went on","occurred_on":"2025-05-11"}"#,
                  resource: "issue-updates", id: nil, action: "created"),
            Write(method: "POST", path: "/v1/rounds/\(round)/participants", body: #"{"participant_id":\#(participant),"role":"lead"}"#,
                  resource: "round-participants", id: round, action: "created"),
            Write(method: "DELETE", path: "/v1/rounds/\(round)/participants/\(participant)", body: nil,
                  resource: "round-participants", id: round, action: "deleted"),
            Write(method: "PATCH", path: "/v1/tariff-measures/\(measure)", body: #"{"rate_percent":20}"#,
                  resource: "tariff-measures", id: measure, action: "updated"),
            Write(method: "DELETE", path: "/v1/statements/\(statement)", body: nil, resource: "statements", id: statement, action: "deleted"),
            Write(method: "DELETE", path: "/v1/sources/\(source)", body: nil, resource: "sources", id: source, action: "deleted"),
        ]
        for write in writes {
            let before = try tip()
            let answered: TestResponse
            if let body = write.body {
                answered = try api.client.request(write.method, write.path, json: body,
                                                  headers: [("Authorization", "Bearer \(Fixtures.writeToken)")])
            } else {
                answered = try api.delete(write.path)
            }
            XCTAssertTrue((200...299).contains(answered.status), "\(write.method) \(write.path): \(answered.text)")
            let requestID = try XCTUnwrap(answered.headers["X-Request-ID"], "every response carries X-Request-ID")
            let id = try write.id ?? XCTUnwrap(try answered.json()["id"]?.intValue, answered.text)
            let (items, lastSeq) = try page("since=\(before)")
            XCTAssertEqual(items.count, 1, "\(write.method) \(write.path) made exactly one change: \(seqs(items))")
            assertChange(items.first, seq: before + 1, resource: write.resource, id: id, action: write.action, requestID: requestID)
            XCTAssertEqual(lastSeq, before + 1)
        }

        // A client-sent request id is the one recorded.
        var before = try tip()
        let tagged = try api.post("/v1/sources", #"{"title":"tagged"}"#, headers: [("X-Request-ID", "feed-test-42")])
        XCTAssertEqual(tagged.headers["X-Request-ID"], "feed-test-42")
        var (items, _) = try page("since=\(before)")
        XCTAssertEqual(items.count, 1)
        assertChange(items.first, seq: before + 1, resource: "sources", id: try XCTUnwrap(try tagged.json()["id"]?.intValue),
                     action: "created", requestID: "feed-test-42")

        // A note that moves its issue's status is one transaction with two changes, under one request id.
        before = try tip()
        let moved = try api.post("/v1/issues/\(issue)/updates", #"{"note":"Agreed","occurred_on":"2025-05-12","status":"agreed"}"#)
        XCTAssertEqual(moved.status, 201, moved.text)
        (items, _) = try page("since=\(before)")
        XCTAssertEqual(items.count, 2)
        assertChange(items.first, seq: before + 1, resource: "issue-updates", id: try XCTUnwrap(try moved.json()["id"]?.intValue),
                     action: "created", requestID: moved.headers["X-Request-ID"])
        assertChange(items.last, seq: before + 2, resource: "issues", id: issue, action: "updated", requestID: moved.headers["X-Request-ID"])

        // Reads, rejected writes and writes of nothing change nothing.
        before = try tip()
        XCTAssertEqual(try api.get("/v1/negotiations/\(negotiation)").status, 200)
        XCTAssertEqual(try api.post("/v1/sources", #"{"title":""}"#).status, 422)
        XCTAssertEqual(try api.delete("/v1/sources/\(source)").status, 404)
        XCTAssertEqual(try api.client.request("POST", "/v1/sources", json: #"{"title":"no token"}"#).status, 401)
        XCTAssertEqual(try tip(), before)
    }

    // MARK: long polling

    func testLongPollIsWokenByAWriteMadeAfterItStarted() throws {
        try start()
        try api.source()
        let since = try tip()
        let clock = ContinuousClock()
        let poller = try startLongPoll("since=\(since)&wait=5")
        usleep(300_000)   // let it park
        let written = try api.post("/v1/sources", #"{"title":"wake up"}"#)
        XCTAssertEqual(written.status, 201)
        let writtenAt = clock.now
        let response = try poller.readResponse()
        let latency = clock.now - writtenAt
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertLessThan(Self.seconds(latency), 2, "answered as the change committed, not at the 5 s timeout")
        let (items, lastSeq) = try bodyOf(response)
        XCTAssertEqual(items.count, 1)
        assertChange(items.first, seq: since + 1, resource: "sources", id: try XCTUnwrap(try written.json()["id"]?.intValue),
                     action: "created", requestID: written.headers["X-Request-ID"])
        XCTAssertEqual(lastSeq, since + 1)
        XCTAssertNotNil(response.headers["X-Request-ID"])
        XCTAssertEqual(response.headers["Content-Type"], "application/json; charset=utf-8")

        // The same connection serves the next request (the long poll's answer kept it alive).
        let next = try poller.request("GET", "/v1/changes?since=\(lastSeq)")
        XCTAssertEqual(next.status, 200)
        XCTAssertEqual(try bodyOf(next).items.count, 0)

        // With changes already after `since`, wait= answers at once with them.
        let started = clock.now
        let (ready, readyLast) = try page("since=\(since)&wait=5")
        XCTAssertLessThan(Self.seconds(clock.now - started), 2)
        XCTAssertEqual(seqs(ready), [since + 1])
        XCTAssertEqual(readyLast, since + 1)
    }

    func testFilteredLongPollIsWokenOnlyByItsResource() throws {
        try start()
        let negotiation = try api.negotiation()
        let since = try tip()
        let poller = try startLongPoll("since=\(since)&wait=5&resource=rounds")
        usleep(300_000)
        try api.source()   // not a round: the poll keeps waiting
        usleep(300_000)
        let round = try api.round(negotiation: negotiation)
        let response = try poller.readResponse()
        XCTAssertEqual(response.status, 200, response.text)
        let (items, lastSeq) = try bodyOf(response)
        XCTAssertEqual(seqs(items), [since + 2], "only the round: \(response.text)")
        XCTAssertEqual(items.first?["resource"], .string("rounds"))
        XCTAssertEqual(items.first?["id"], .int(round))
        XCTAssertEqual(lastSeq, since + 2)
    }

    func testLongPollTimesOutWithEmptyData() throws {
        try start()
        try api.source()
        try api.source()
        let clock = ContinuousClock()
        let started = clock.now
        let (items, lastSeq) = try page("since=now&wait=1")
        let elapsed = Self.seconds(clock.now - started)
        XCTAssertEqual(items.count, 0)
        XCTAssertEqual(lastSeq, 2)
        XCTAssertGreaterThanOrEqual(elapsed, 0.9, "it waited")
        XCTAssertLessThan(elapsed, 5, "and answered after about a second")

        // Changes of other resources do not end a filtered wait early, and move last_seq on.
        let poller = try startLongPoll("since=2&wait=1&resource=rounds")
        try api.source()
        let response = try poller.readResponse()
        XCTAssertEqual(response.status, 200)
        let (filtered, filteredLast) = try bodyOf(response)
        XCTAssertEqual(filtered.count, 0)
        XCTAssertEqual(filteredLast, 3)

        // wait=0 is an ordinary read.
        let immediate = clock.now
        XCTAssertEqual(try page("since=now&wait=0").items.count, 0)
        XCTAssertLessThan(Self.seconds(clock.now - immediate), 0.9)
    }

    // MARK: Server-Sent Events

    func testStreamReceivesChangesMadeAfterItConnected() throws {
        try start()
        try api.source()
        try api.source()
        let stream = try openStream()
        XCTAssertTrue(try stream.isQuiet(for: .milliseconds(300)), "without since or Last-Event-ID the stream starts at the tip")

        let id = try api.source(title: "live")
        try assertNextEvent(stream, seq: 3, action: "created", resource: "sources", id: id)
        XCTAssertEqual(try api.patch("/v1/sources/\(id)", #"{"title":"live, edited"}"#).status, 200)
        try assertNextEvent(stream, seq: 4, action: "updated", resource: "sources", id: id)
        XCTAssertEqual(try api.delete("/v1/sources/\(id)").status, 204)
        let deleted = try assertNextEvent(stream, seq: 5, action: "deleted", resource: "sources", id: id)
        XCTAssertEqual(try deleted.json()["actor"], .string("writer"))
        XCTAssertEqual(stream.lastEventID, "5")
        XCTAssertTrue(try stream.isQuiet(for: .milliseconds(300)), "one event per change")
        XCTAssertEqual(stream.comments, [], "no heartbeat within 15 s")
    }

    func testReconnectWithLastEventIDReceivesExactlyTheMissedChanges() throws {
        try start()
        let first = try openStream()
        let seen = try api.source(title: "seen")
        try assertNextEvent(first, seq: 1, action: "created", resource: "sources", id: seen)
        let last = try XCTUnwrap(first.lastEventID)
        first.close()

        // Three writes while nobody listens.
        let missed = [try api.source(title: "missed 1"), try api.negotiation(), try api.source(title: "missed 2")]
        XCTAssertEqual(try api.patch("/v1/sources/\(missed[0])", #"{"title":"missed 1, edited"}"#).status, 200)

        let second = try openStream(lastEventID: last)
        var received: [EventStreamClient.Event] = []
        for _ in 0..<4 { received.append(try second.nextEvent(timeout: .seconds(5))) }
        XCTAssertEqual(received.map(\.id), ["2", "3", "4", "5"], "exactly the missed changes, in order")
        XCTAssertEqual(received.map(\.event), ["created", "created", "created", "updated"])
        XCTAssertEqual(try received.map { try $0.json()["id"]?.intValue ?? -1 }, missed + [missed[0]])
        XCTAssertTrue(try second.isQuiet(for: .milliseconds(500)), "nothing duplicated")

        // And it stays live afterwards, each change once.
        let after = try api.source(title: "after")
        try assertNextEvent(second, seq: 6, action: "created", resource: "sources", id: after)
        XCTAssertTrue(try second.isQuiet(for: .milliseconds(300)))

        // Last-Event-ID wins over since.
        let third = try openStream("since=0", lastEventID: "4")
        XCTAssertEqual(try third.nextEvent(timeout: .seconds(5)).id, "5")
        XCTAssertEqual(try third.nextEvent(timeout: .seconds(5)).id, "6")
        XCTAssertTrue(try third.isQuiet(for: .milliseconds(300)))
        // Last-Event-ID at the tip: only new changes.
        let fourth = try openStream(lastEventID: "6")
        XCTAssertTrue(try fourth.isQuiet(for: .milliseconds(300)))
    }

    func testStreamStartsAfterSinceAndFiltersByResource() throws {
        try start()
        let n1 = try api.negotiation()   // 1
        try api.source()                 // 2
        let n2 = try api.negotiation()   // 3
        try api.source()                 // 4

        let fromTwo = try openStream("since=2")
        XCTAssertEqual(try (0..<2).map { _ in try fromTwo.nextEvent(timeout: .seconds(5)).id }, ["3", "4"])
        XCTAssertTrue(try fromTwo.isQuiet(for: .milliseconds(300)))

        let fromNow = try openStream("since=now")
        let fromZero = try openStream("since=0")
        XCTAssertEqual(try (0..<4).map { _ in try fromZero.nextEvent(timeout: .seconds(5)).id }, ["1", "2", "3", "4"])

        let negotiations = try openStream("since=0&resource=negotiations")
        let first = try negotiations.nextEvent(timeout: .seconds(5))
        let second = try negotiations.nextEvent(timeout: .seconds(5))
        XCTAssertEqual([first.id, second.id], ["1", "3"])
        XCTAssertEqual(try [first.json()["id"], second.json()["id"]], [.int(n1), .int(n2)])
        XCTAssertTrue(try negotiations.isQuiet(for: .milliseconds(300)))

        XCTAssertTrue(try fromNow.isQuiet(for: .milliseconds(100)))
        let source = try api.source()     // 5: not a negotiation
        let n3 = try api.negotiation()    // 6
        try assertNextEvent(fromNow, seq: 5, action: "created", resource: "sources", id: source)
        try assertNextEvent(fromNow, seq: 6, action: "created", resource: "negotiations", id: n3)
        try assertNextEvent(negotiations, seq: 6, action: "created", resource: "negotiations", id: n3)
        XCTAssertTrue(try negotiations.isQuiet(for: .milliseconds(300)))
        XCTAssertEqual(try fromTwo.nextEvent(timeout: .seconds(5)).id, "5")
        XCTAssertEqual(try fromTwo.nextEvent(timeout: .seconds(5)).id, "6")
    }

    func testHeartbeatCommentOnAnIdleStream() throws {
        try start { $0.feedHeartbeat = .milliseconds(200) }
        let stream = try openStream()
        XCTAssertEqual(try stream.nextItem(timeout: .seconds(3)), .comment("heartbeat"))
        XCTAssertEqual(try stream.nextItem(timeout: .seconds(3)), .comment("heartbeat"), "and again")
        // Events still flow between heartbeats.
        let id = try api.source()
        try assertNextEvent(stream, seq: 1, action: "created", resource: "sources", id: id)
        XCTAssertGreaterThanOrEqual(stream.comments.count, 2)
        XCTAssertEqual(Set(stream.comments), ["heartbeat"])
    }

    // MARK: capacity and shutdown

    func testManyOpenStreamsAndParkedPollsDoNotBlockOrdinaryRequests() throws {
        // Two workers: if a stream or a parked poll held one, ordinary requests would stall.
        try start { $0.server.workerCount = 2 }
        let feed = testApp!.app.feed
        var opened: [EventStreamClient] = []
        for _ in 0..<200 { opened.append(try openStream()) }
        let since = try tip()
        for _ in 0..<4 { _ = try startLongPoll("since=\(since)&wait=10&resource=rounds") }
        let deadline = ContinuousClock.now + .seconds(5)
        while feed.openStreams < 200 && ContinuousClock.now < deadline { usleep(10_000) }
        XCTAssertEqual(feed.openStreams, 200)

        let other = testApp!.client()
        var statuses: [Int] = []
        for n in 0..<50 {
            let path = n % 2 == 0 ? "/v1/changes?since=0" : "/v1/negotiations"
            statuses.append(try other.request("GET", path).status)
        }
        XCTAssertEqual(statuses, Array(repeating: 200, count: 50))

        let id = try api.source(title: "to everyone")
        for index in stride(from: 0, to: 200, by: 10) {
            let event = try opened[index].nextEvent(timeout: .seconds(5))
            XCTAssertEqual(event.id, String(since + 1), "stream \(index)")
            XCTAssertEqual(try event.json()["id"], .int(id), "stream \(index)")
        }
        // A closed client is forgotten.
        opened[0].close()
        let closedDeadline = ContinuousClock.now + .seconds(5)
        while feed.openStreams > 199 && ContinuousClock.now < closedDeadline { usleep(10_000) }
        XCTAssertEqual(feed.openStreams, 199)
    }

    func testShutdownEndsStreamsAndAnswersParkedLongPolls() throws {
        try start()
        try api.source()
        try api.source()
        let app = try XCTUnwrap(testApp)
        let open = [try openStream(), try openStream("since=0"), try openStream("resource=rounds")]
        let polls = [try startLongPoll("since=2&wait=10"), try startLongPoll("since=now&wait=10&resource=rounds")]
        usleep(300_000)

        testApp = nil   // stopped here, not again in tearDown
        let stopped = expectation(description: "shutdown returned")
        let product = app.app
        let clock = ContinuousClock()
        let stopping = clock.now
        Thread.detachNewThread {
            product.shutdown()
            stopped.fulfill()
        }
        defer { try? FileManager.default.removeItem(at: app.directory) }
        for poll in polls {
            let response = try poll.readResponse()
            XCTAssertEqual(response.status, 200, response.text)
            let (items, lastSeq) = try bodyOf(response)
            XCTAssertEqual(items.count, 0, "a parked poll gets its empty answer at shutdown")
            XCTAssertEqual(lastSeq, 2)
            XCTAssertLessThan(Self.seconds(clock.now - stopping), 5, "answered by the shutdown, not by its 10 s wait")
        }
        for (index, stream) in open.enumerated() {
            var drained: [EventStreamClient.Item] = []
            XCTAssertTrue(stream.waitForEOF(timeout: .seconds(5), drained: &drained), "stream \(index) sees the end")
            let ids = drained.compactMap { item -> String? in
                if case .event(let event) = item { return event.id }
                return nil
            }
            XCTAssertEqual(ids, index == 1 ? ["1", "2"] : [], "stream \(index)")
        }
        wait(for: [stopped], timeout: 8)
    }
}
