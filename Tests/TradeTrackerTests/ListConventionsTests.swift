import JSON
import XCTest
import HTTPServer
@testable import TradeTracker

/// API.md §1 "Lists": envelope, limit, cursors, sort, filters, ranges, `q` — end to end over a socket.
final class ListConventionsTests: XCTestCase {
    var api: ConventionAPI!

    override func setUpWithError() throws { api = try ConventionAPI() }
    override func tearDown() { api.stop() }

    private func seedSources(_ n: Int, prefix: String = "Source") throws -> [Int] {
        try (1...n).map { try api.createSource(title: "\(prefix) \($0)") }
    }

    // MARK: envelope, limit, Link

    func testEnvelopeDefaultLimitAndLinkHeader() throws {
        let ids = try seedSources(55)
        let first = try api.get("/v1/sources")
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.headers["Content-Type"], "application/json; charset=utf-8")
        let members = try XCTUnwrap(try first.json().objectValue).map(\.0)
        XCTAssertEqual(members, ["data", "next_cursor"])
        XCTAssertEqual(try first.ids(), Array(ids.prefix(50)), "default limit is 50, ordered by id")
        let cursor = try XCTUnwrap(try first.nextCursor())
        let link = try XCTUnwrap(first.headers["Link"])
        XCTAssertTrue(link.hasPrefix("</v1/sources?"), link)
        XCTAssertTrue(link.hasSuffix(#">; rel="next""#), link)
        XCTAssertTrue(link.contains("cursor=\(cursor)"), "Link mirrors next_cursor: \(link)")
        // Following the Link target gives the same page as the bare cursor.
        let target = String(link.dropFirst().prefix { $0 != ">" })
        let viaLink = try api.get(target)
        let viaCursor = try api.get("/v1/sources?cursor=\(cursor)")
        XCTAssertEqual(try viaLink.ids(), Array(ids.suffix(5)))
        XCTAssertEqual(viaLink.body, viaCursor.body)
        XCTAssertNil(try viaCursor.nextCursor(), "the last page says so with next_cursor null")
        XCTAssertNil(viaCursor.headers["Link"], "no Link on the last page")
    }

    func testEmptyListHasNullCursor() throws {
        let response = try api.get("/v1/sources")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, #"{"data":[],"next_cursor":null}"#)
    }

    func testLimitBoundsAndMalformedLimits() throws {
        _ = try seedSources(3)
        for bad in ["0", "501", "x", "-1", "1.5", "", "5&limit=6"] {
            assertBadParameter(try api.get("/v1/sources?limit=\(bad)"), "limit", "limit=\(bad)")
        }
        let one = try api.get("/v1/sources?limit=1")
        XCTAssertEqual(try one.ids().count, 1)
        XCTAssertNotNil(try one.nextCursor())
        let max = try api.get("/v1/sources?limit=500")
        XCTAssertEqual(try max.ids().count, 3)
        XCTAssertNil(try max.nextCursor())
    }

    func testFullLastPageHasNullCursor() throws {
        let ids = try seedSources(14)
        let first = try api.get("/v1/sources?limit=7")
        XCTAssertEqual(try first.ids(), Array(ids.prefix(7)))
        let cursor = try XCTUnwrap(try first.nextCursor())
        let second = try api.get("/v1/sources?cursor=\(cursor)&limit=7")
        XCTAssertEqual(try second.ids(), Array(ids.suffix(7)), "a full page")
        XCTAssertNil(try second.nextCursor(), "…that is the last one because no more rows exist")
        XCTAssertNil(second.headers["Link"])
    }

    func testLimitMayChangeBetweenPages() throws {
        let ids = try seedSources(12)
        var served: [Int] = []
        var response = try api.get("/v1/sources?limit=5")
        served += try response.ids()
        response = try api.get("/v1/sources?cursor=\(try XCTUnwrap(try response.nextCursor()))&limit=2")
        XCTAssertEqual(try response.ids(), Array(ids[5..<7]))
        served += try response.ids()
        response = try api.get("/v1/sources?cursor=\(try XCTUnwrap(try response.nextCursor()))&limit=500")
        served += try response.ids()
        XCTAssertNil(try response.nextCursor())
        XCTAssertEqual(served, ids)
    }

    // MARK: keyset paging under inserts

    func testWalkingPagesWhileInsertingServesNoRecordTwiceAndMissesNone() throws {
        let original = try seedSources(40)
        var served: [Int] = []
        var inserted: [Int] = []
        var response = try api.get("/v1/sources?limit=7")
        var pages = 0
        while true {
            XCTAssertEqual(response.status, 200, response.text)
            served += try response.ids()
            pages += 1
            guard let cursor = try response.nextCursor() else { break }
            XCTAssertLessThan(pages, 30)
            inserted.append(try api.createSource(title: "Inserted \(pages)"))
            response = try api.get("/v1/sources?cursor=\(cursor)&limit=7")
        }
        XCTAssertEqual(Set(served).count, served.count, "no record served twice")
        XCTAssertTrue(Set(original).isSubset(of: Set(served)), "no original record missed")
        XCTAssertEqual(served, served.sorted(), "ascending id order throughout")
        XCTAssertEqual(served, original + inserted, "records added behind the cursor's position are still reached")
    }

    func testDescendingDateWalkUnderInsertsBeforeAndAfterThePosition() throws {
        let n = try api.createNegotiation(slug: "walk")
        // 40 rounds on 20 distinct days (two per day), so `id` breaks ties.
        var original: [Int] = []
        for i in 0..<40 {
            let day = String(format: "2025-03-%02d", 1 + i / 2)
            original.append(try api.createRound(negotiationID: n, title: "R\(i)", startsOn: day))
        }
        var served: [(id: Int, day: String)] = []
        var response = try api.get("/v1/rounds?sort=-starts_on,id&limit=7")
        var page = 0
        while true {
            XCTAssertEqual(response.status, 200, response.text)
            for item in try response.data() {
                served.append((try XCTUnwrap(item["id"]?.intValue), try XCTUnwrap(item["starts_on"]?.stringValue)))
            }
            guard let cursor = try response.nextCursor() else { break }
            page += 1
            XCTAssertLessThan(page, 30)
            // One round in the past (ahead of the walk), one in the future (behind it), one on the current last day.
            _ = try api.createRound(negotiationID: n, title: "Old \(page)", startsOn: "2025-01-0\(min(page, 9))")
            _ = try api.createRound(negotiationID: n, title: "New \(page)", startsOn: "2025-12-0\(min(page, 9))")
            _ = try api.createRound(negotiationID: n, title: "Same \(page)", startsOn: try XCTUnwrap(served.last?.day))
            response = try api.get("/v1/rounds?cursor=\(cursor)&limit=7")
        }
        let ids = served.map(\.id)
        XCTAssertEqual(Set(ids).count, ids.count, "no round served twice")
        XCTAssertTrue(Set(original).isSubset(of: Set(ids)), "none of the original rounds missed")
        for (a, b) in zip(served, served.dropFirst()) {
            XCTAssertTrue(a.day > b.day || (a.day == b.day && a.id < b.id), "order -starts_on,id broken between \(a) and \(b)")
        }
        XCTAssertFalse(served.contains { $0.day.hasPrefix("2025-12") }, "rounds inserted before the position are not served")
    }

    // MARK: cursors

    func testCursorAloneContinuesTheSameFiltersAndSort() throws {
        let n = try api.createNegotiation(slug: "cursor")
        var concluded: [Int] = []
        for i in 1...6 {
            concluded.append(try api.createRound(negotiationID: n, title: "C\(i)", startsOn: "2025-05-\(10 + i)"))
            _ = try api.createRound(negotiationID: n, title: "S\(i)", startsOn: "2025-05-\(10 + i)", status: "scheduled")
        }
        let first = try api.get("/v1/rounds?status=concluded&sort=-starts_on&limit=2")
        XCTAssertEqual(try first.ids(), [concluded[5], concluded[4]])
        let cursor = try XCTUnwrap(try first.nextCursor())
        let alone = try api.get("/v1/rounds?cursor=\(cursor)&limit=2")
        XCTAssertEqual(try alone.ids(), [concluded[3], concluded[2]], "same filter and sort as the first page")
        let rest = try api.get("/v1/rounds?cursor=\(cursor)")
        XCTAssertEqual(try rest.ids(), [concluded[3], concluded[2], concluded[1], concluded[0]],
                       "the bare cursor keeps filter and sort (the limit is per request, default 50)")
        XCTAssertNil(try rest.nextCursor())
        let same = try api.get("/v1/rounds?status=concluded&sort=-starts_on&cursor=\(cursor)&limit=2")
        XCTAssertEqual(same.body, alone.body, "repeating the same parameters is allowed")
        let reordered = try api.get("/v1/rounds?sort=-starts_on&cursor=\(cursor)&status=concluded")
        XCTAssertEqual(reordered.status, 200, "parameter order does not matter: \(reordered.text)")
        assertBadParameter(try api.get("/v1/rounds?status=scheduled&sort=-starts_on&cursor=\(cursor)"), "cursor", "other filter")
        assertBadParameter(try api.get("/v1/rounds?status=concluded&sort=starts_on&cursor=\(cursor)"), "cursor", "other sort")
        assertBadParameter(try api.get("/v1/rounds?status=concluded&cursor=\(cursor)"), "cursor", "sort dropped")
        assertBadParameter(try api.get("/v1/rounds?status=concluded&sort=-starts_on&country=CHE&cursor=\(cursor)"), "cursor",
                           "filter added")
    }

    func testTamperedForeignAndGarbageCursorsAre400() throws {
        _ = try seedSources(3)
        let n = try api.createNegotiation(slug: "tamper")
        for i in 1...3 { _ = try api.createRound(negotiationID: n, title: "T\(i)", startsOn: "2025-05-1\(i)") }
        let cursor = try XCTUnwrap(try api.get("/v1/rounds?limit=1").nextCursor())
        XCTAssertEqual(try api.get("/v1/rounds?cursor=\(cursor)").status, 200)
        // Flip one character in the payload part and, separately, in the signature.
        for index in [cursor.startIndex, cursor.index(cursor.startIndex, offsetBy: 5), cursor.index(before: cursor.endIndex)] {
            var chars = Array(cursor)
            let i = cursor.distance(from: cursor.startIndex, to: index)
            chars[i] = chars[i] == "A" ? "B" : "A"
            assertBadParameter(try api.get("/v1/rounds?cursor=\(String(chars))"), "cursor", "flipped at \(i)")
        }
        assertBadParameter(try api.get("/v1/rounds?cursor=not-a-cursor"), "cursor", "garbage")
        assertBadParameter(try api.get("/v1/rounds?cursor="), "cursor", "empty")
        let sourcesCursor = try XCTUnwrap(try api.get("/v1/sources?limit=1").nextCursor())
        assertBadParameter(try api.get("/v1/rounds?cursor=\(sourcesCursor)"), "cursor", "cursor of the sources list")
        assertBadParameter(try api.get("/v1/negotiations?cursor=\(cursor)"), "cursor", "rounds cursor on negotiations")
    }

    // MARK: sort

    func testNegotiationSortsAscendingAndDescending() throws {
        let a = try api.createNegotiation(slug: "a", title: "Charlie talks", startedOn: "2025-03-01")
        let b = try api.createNegotiation(slug: "b", title: "Alpha talks", startedOn: "2025-01-01")
        let c = try api.createNegotiation(slug: "c", title: "Bravo talks", startedOn: "2025-02-01")
        Thread.sleep(forTimeInterval: 0.01)
        XCTAssertEqual(try api.send("PATCH", "/v1/negotiations/\(b)", #"{"summary":"touched"}"#).status, 200)
        Thread.sleep(forTimeInterval: 0.01)
        XCTAssertEqual(try api.send("PATCH", "/v1/negotiations/\(a)", #"{"summary":"touched"}"#).status, 200)
        let expectations: [(String, [Int])] = [
            ("started_on", [b, c, a]), ("-started_on", [a, c, b]),
            ("title", [b, c, a]), ("-title", [a, c, b]),
            ("updated_at", [c, b, a]), ("-updated_at", [a, b, c]),
            ("id", [a, b, c]), ("-id", [c, b, a]),
        ]
        for (sort, expected) in expectations {
            XCTAssertEqual(try api.get("/v1/negotiations?sort=\(sort)").ids(), expected, "sort=\(sort)")
            // Paged one at a time, the order is the same.
            XCTAssertEqual(try api.walk("/v1/negotiations?sort=\(sort)&limit=1", basePath: "/v1/negotiations"), expected,
                           "sort=\(sort) paged")
        }
    }

    func testRoundSortsAndMultiKeySort() throws {
        let n1 = try api.createNegotiation(slug: "one")
        let n2 = try api.createNegotiation(slug: "two")
        let pause = { Thread.sleep(forTimeInterval: 0.01) }
        let r1 = try api.createRound(negotiationID: n1, title: "A", startsOn: "2025-06-01")   // seq 1
        pause()
        let r2 = try api.createRound(negotiationID: n1, title: "B", startsOn: "2025-05-01")   // seq 2
        pause()
        let r3 = try api.createRound(negotiationID: n2, title: "C", startsOn: "2025-06-01")   // seq 1
        pause()
        let r4 = try api.createRound(negotiationID: n1, title: "D", startsOn: "2025-07-01")   // seq 3
        Thread.sleep(forTimeInterval: 0.01)
        XCTAssertEqual(try api.send("PATCH", "/v1/rounds/\(r1)", #"{"summary":"later"}"#).status, 200)
        let expectations: [(String, [Int])] = [
            ("starts_on", [r2, r1, r3, r4]), ("-starts_on", [r4, r1, r3, r2]),
            ("-starts_on,id", [r4, r1, r3, r2]), ("-starts_on,-id", [r4, r3, r1, r2]),
            ("sequence", [r1, r3, r2, r4]), ("-sequence", [r4, r2, r1, r3]),
            ("updated_at", [r2, r3, r4, r1]), ("-updated_at", [r1, r4, r3, r2]),
        ]
        for (sort, expected) in expectations {
            XCTAssertEqual(try api.get("/v1/rounds?sort=\(sort)").ids(), expected, "sort=\(sort)")
            XCTAssertEqual(try api.walk("/v1/rounds?sort=\(sort)&limit=1", basePath: "/v1/rounds"), expected, "sort=\(sort) paged")
        }
    }

    func testIssueSortsFollowTheDocumentedEnumOrder() throws {
        let n = try api.createNegotiation(slug: "issues")
        func issue(_ priority: String, _ status: String) throws -> Int {
            try api.create("/v1/issues", """
                {"negotiation_id":\(n),"category":"other","title":"\(priority) \(status)","priority":"\(priority)","status":"\(status)"}
                """)
        }
        let low = try issue("low", "agreed")
        let high = try issue("high", "stalled")
        let medium = try issue("medium", "open")
        let high2 = try issue("high", "in_discussion")
        let lowDropped = try issue("low", "dropped")
        let mediumTentative = try issue("medium", "tentative_agreement")
        XCTAssertEqual(try api.get("/v1/issues?sort=priority").ids(), [high, high2, medium, mediumTentative, low, lowDropped],
                       "high before medium before low (not alphabetical), then id")
        XCTAssertEqual(try api.get("/v1/issues?sort=-priority").ids(), [low, lowDropped, medium, mediumTentative, high, high2])
        XCTAssertEqual(try api.get("/v1/issues?sort=status").ids(), [medium, high2, mediumTentative, low, high, lowDropped],
                       "open, in_discussion, tentative_agreement, agreed, stalled, dropped")
        XCTAssertEqual(try api.get("/v1/issues?sort=-status").ids(), [lowDropped, high, low, mediumTentative, high2, medium])
        XCTAssertEqual(try api.walk("/v1/issues?sort=priority,-id&limit=1", basePath: "/v1/issues"),
                       [high2, high, mediumTentative, medium, lowDropped, low])
    }

    func testUndocumentedOrMalformedSortIs400() throws {
        for sort in ["city", "-city", "slug", "starts_on,city", "starts_on,starts_on", "", "-", "+starts_on", "STARTS_ON"] {
            assertBadParameter(try api.get("/v1/rounds?sort=\(sort)"), "sort", "rounds sort=\(sort)")
        }
        assertBadParameter(try api.get("/v1/negotiations?sort=slug"), "sort")
        assertBadParameter(try api.get("/v1/negotiations?sort=starts_on"), "sort", "a rounds field on negotiations")
        assertBadParameter(try api.get("/v1/issues?sort=category"), "sort")
        assertBadParameter(try api.get("/v1/rounds?sort=starts_on&sort=id"), "sort", "sort given twice")
    }

    // MARK: filters

    func testRepeatedAndCommaSeparatedFilterValuesAreOR() throws {
        let n = try api.createNegotiation(slug: "filters")
        let other = try api.createNegotiation(slug: "other")
        let concluded = try api.createRound(negotiationID: n, title: "c", country: "CHE", startsOn: "2025-05-10")
        let scheduled = try api.createRound(negotiationID: n, title: "s", city: "London", country: "GBR", startsOn: "2025-06-10",
                                            status: "scheduled")
        let progress = try api.createRound(negotiationID: n, title: "p", city: "Madrid", country: "ESP", startsOn: "2025-07-10",
                                           status: "in_progress")
        let elsewhere = try api.createRound(negotiationID: other, title: "o", city: "Busan", country: "KOR", startsOn: "2025-08-10",
                                            status: "scheduled")
        XCTAssertEqual(try api.get("/v1/rounds?status=scheduled").ids(), [scheduled, elsewhere])
        XCTAssertEqual(try api.get("/v1/rounds?status=scheduled,in_progress").ids(), [scheduled, progress, elsewhere])
        XCTAssertEqual(try api.get("/v1/rounds?status=scheduled&status=in_progress").ids(), [scheduled, progress, elsewhere])
        XCTAssertEqual(try api.get("/v1/rounds?status=concluded,in_progress&status=scheduled").ids(),
                       [concluded, scheduled, progress, elsewhere])
        XCTAssertEqual(try api.get("/v1/rounds?country=CHE,GBR").ids(), [concluded, scheduled])
        XCTAssertEqual(try api.get("/v1/rounds?country=KOR&country=ESP").ids(), [progress, elsewhere])
        XCTAssertEqual(try api.get("/v1/rounds?negotiation_id=\(other)").ids(), [elsewhere])
        XCTAssertEqual(try api.get("/v1/rounds?negotiation_id=\(n)&status=scheduled").ids(), [scheduled], "filters AND together")
        XCTAssertEqual(try api.get("/v1/rounds?negotiation_id=999").ids(), [], "an id that matches nothing is an empty page")
        // Negotiations: status and party.
        let eu = try api.create("/v1/negotiations", #"{"slug":"eu","title":"EU","parties":["USA","EUN"],"status":"paused"}"#)
        XCTAssertEqual(try api.get("/v1/negotiations?party=EUN").ids(), [eu])
        XCTAssertEqual(try api.get("/v1/negotiations?party=CHN").ids(), [n, other])
        XCTAssertEqual(try api.get("/v1/negotiations?party=CHN,EUN").ids(), [n, other, eu])
        XCTAssertEqual(try api.get("/v1/negotiations?status=paused,collapsed").ids(), [eu])
    }

    func testBadFilterValuesAndUnknownParametersAre400NamingTheParameter() throws {
        assertBadParameter(try api.get("/v1/rounds?status=done"), "status", "unknown enum value")
        assertBadParameter(try api.get("/v1/rounds?status=concluded,done"), "status", "one bad value among good ones")
        assertBadParameter(try api.get("/v1/rounds?status=Concluded"), "status", "enum values are case-sensitive")
        assertBadParameter(try api.get("/v1/rounds?country=XXX"), "country", "unknown country")
        assertBadParameter(try api.get("/v1/rounds?country=usa"), "country", "lower-case country")
        assertBadParameter(try api.get("/v1/rounds?country=US"), "country", "alpha-2")
        assertBadParameter(try api.get("/v1/negotiations?party=ZZZ"), "party")
        assertBadParameter(try api.get("/v1/rounds?negotiation_id=abc"), "negotiation_id")
        assertBadParameter(try api.get("/v1/rounds?negotiation_id=0"), "negotiation_id")
        assertBadParameter(try api.get("/v1/rounds?from=2025-02-30"), "from", "impossible date")
        assertBadParameter(try api.get("/v1/rounds?to=2025-5-1"), "to", "not YYYY-MM-DD")
        assertBadParameter(try api.get("/v1/rounds?from=2025-06-01&to=2025-05-01"), "from", "from after to")
        assertBadParameter(try api.get("/v1/issues?priority=urgent"), "priority")
        assertBadParameter(try api.get("/v1/issues?category=tariff"), "category")
        assertBadParameter(try api.get("/v1/tariff-measures?imposed_by=USAA"), "imposed_by")
        assertBadParameter(try api.get("/v1/rounds?updated_since=yesterday"), "updated_since")
        assertBadParameter(try api.get("/v1/rounds?foo=1"), "foo", "unknown parameter")
        assertBadParameter(try api.get("/v1/rounds?Status=concluded"), "Status", "parameter names are case-sensitive")
        assertBadParameter(try api.get("/v1/negotiations?from=2025-01-01"), "from", "negotiations have no date range")
        assertBadParameter(try api.get("/v1/tariff-measures?q=tariff"), "q", "tariff measures have no full-text search")
        assertBadParameter(try api.get("/v1/rounds?offset=10"), "offset", "no OFFSET paging")
        assertBadParameter(try api.get("/v1/rounds?q=%20%20"), "q", "blank search")
    }

    func testFromToSelectRoundsOverlappingTheRangeInclusive() throws {
        let n = try api.createNegotiation(slug: "range")
        let geneva = try api.createRound(negotiationID: n, title: "Geneva", startsOn: "2025-05-10", endsOn: "2025-05-11")
        let london = try api.createRound(negotiationID: n, title: "London", startsOn: "2025-06-09", endsOn: "2025-06-10")
        let long = try api.createRound(negotiationID: n, title: "Long", startsOn: "2025-08-01", endsOn: "2025-08-31")
        XCTAssertEqual(try api.get("/v1/rounds?from=2025-05-11&to=2025-06-09").ids(), [geneva, london], "both ends inclusive")
        XCTAssertEqual(try api.get("/v1/rounds?from=2025-05-12&to=2025-06-08").ids(), [], "between the rounds")
        XCTAssertEqual(try api.get("/v1/rounds?from=2025-06-10").ids(), [london, long])
        XCTAssertEqual(try api.get("/v1/rounds?from=2025-06-11").ids(), [long])
        XCTAssertEqual(try api.get("/v1/rounds?to=2025-05-10").ids(), [geneva])
        XCTAssertEqual(try api.get("/v1/rounds?to=2025-05-09").ids(), [])
        XCTAssertEqual(try api.get("/v1/rounds?from=2025-08-10&to=2025-08-12").ids(), [long], "range inside a long round")
        XCTAssertEqual(try api.get("/v1/rounds?from=2025-01-01&to=2025-12-31").ids(), [geneva, london, long])
        XCTAssertEqual(try api.get("/v1/rounds?from=2025-05-11&to=2025-05-11").ids(), [geneva], "a one-day range")
    }

    func testStatementsFromToUseSaidOn() throws {
        let a = try api.create("/v1/statements", #"{"speaker":"A","said_on":"2025-05-08","text":"one"}"#)
        let b = try api.create("/v1/statements", #"{"speaker":"B","said_on":"2025-05-09","text":"two"}"#)
        XCTAssertEqual(try api.get("/v1/statements?from=2025-05-09").ids(), [b])
        XCTAssertEqual(try api.get("/v1/statements?to=2025-05-08").ids(), [a])
        XCTAssertEqual(try api.get("/v1/statements?from=2025-05-08&to=2025-05-09").ids(), [a, b])
    }

    func testUpdatedSinceIsExclusive() throws {
        let first = try api.createSource(title: "first")
        Thread.sleep(forTimeInterval: 0.01)
        let second = try api.createSource(title: "second")
        Thread.sleep(forTimeInterval: 0.01)
        let third = try api.createSource(title: "third")
        let stamp = try XCTUnwrap(try api.get("/v1/sources/\(second)").json()["updated_at"]?.stringValue)
        XCTAssertEqual(try api.get("/v1/sources?updated_since=\(stamp)").ids(), [third], "strictly after second's updated_at")
        Thread.sleep(forTimeInterval: 0.01)
        XCTAssertEqual(try api.send("PATCH", "/v1/sources/\(first)", #"{"publisher":"x"}"#).status, 200)
        XCTAssertEqual(try api.get("/v1/sources?updated_since=\(stamp)").ids(), [first, third], "an update moves a record in")
        XCTAssertEqual(try api.get("/v1/sources?updated_since=2000-01-01T00:00:00Z").ids(), [first, second, third])
        XCTAssertEqual(try api.get("/v1/sources?updated_since=2999-01-01T00:00:00Z").ids(), [])
        // An offset timestamp is understood (and not compared as text).
        XCTAssertEqual(try api.get("/v1/sources?updated_since=2000-01-01T02:00:00%2B02:00").ids(), [first, second, third])
    }

    func testFullTextSearchOnRoundsIssuesStatementsAndNegotiations() throws {
        let n = try api.createNegotiation(slug: "fts", title: "Tariff truce talks")
        let other = try api.createNegotiation(slug: "fts2", title: "Fisheries dialogue")
        let geneva = try api.create("/v1/rounds", """
            {"negotiation_id":\(n),"title":"Geneva talks","city":"Geneva","country":"CHE","starts_on":"2025-05-10",\
            "ends_on":"2025-05-11","status":"concluded","summary":"Held at the ambassador's villa in Cologny"}
            """)
        let london = try api.createRound(negotiationID: n, title: "London talks", city: "London", country: "GBR", startsOn: "2025-06-09")
        let rare = try api.create("/v1/issues", """
            {"negotiation_id":\(n),"category":"rare_earths","title":"Rare-earth magnets","description":"Licensing of dysprosium exports"}
            """)
        let fent = try api.create("/v1/issues", #"{"negotiation_id":\#(n),"category":"fentanyl_precursors","title":"Fentanyl precursors"}"#)
        let s1 = try api.create("/v1/statements", #"{"speaker":"Trump","said_on":"2025-05-08","text":"It can't go any higher now."}"#)
        let s2 = try api.create("/v1/statements", #"{"speaker":"Bessent","said_on":"2025-07-29","text":"Nothing is agreed until we speak."}"#)
        XCTAssertEqual(try api.get("/v1/rounds?q=geneva").ids(), [geneva])
        XCTAssertEqual(try api.get("/v1/rounds?q=cologny").ids(), [geneva], "summary is indexed")
        XCTAssertEqual(try api.get("/v1/rounds?q=talks").ids(), [geneva, london])
        XCTAssertEqual(try api.get("/v1/rounds?q=london%20talks").ids(), [london], "all words must match")
        XCTAssertEqual(try api.get("/v1/rounds?q=madrid").ids(), [])
        XCTAssertEqual(try api.get("/v1/issues?q=dysprosium").ids(), [rare], "description is indexed")
        XCTAssertEqual(try api.get("/v1/issues?q=FENTANYL").ids(), [fent], "case-insensitive")
        XCTAssertEqual(try api.get("/v1/statements?q=higher").ids(), [s1])
        XCTAssertEqual(try api.get("/v1/statements?q=agreed").ids(), [s2])
        XCTAssertEqual(try api.get("/v1/negotiations?q=truce").ids(), [n])
        XCTAssertEqual(try api.get("/v1/negotiations?q=fisheries").ids(), [other])
        // Search text is never FTS syntax.
        XCTAssertEqual(try api.get("/v1/rounds?q=%22geneva").status, 200)
        XCTAssertEqual(try api.get("/v1/rounds?q=geneva%20OR%20london").ids(), [], "OR is a word, not an operator")
        // An update is searchable at once.
        XCTAssertEqual(try api.send("PATCH", "/v1/rounds/\(london)", #"{"summary":"Lancaster House"}"#).status, 200)
        XCTAssertEqual(try api.get("/v1/rounds?q=lancaster").ids(), [london])
    }
}
