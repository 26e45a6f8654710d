import JSON
import Foundation
import XCTest
@testable import TradeTracker

/// Helpers for the measure tests (suspension windows, HS codes, `responds_to`, export controls).
enum Measures {
    /// The members of an export control, in the order the API writes them (API.md §2).
    static let exportControlFields = ["imposed_by", "applies_to", "items", "hs_codes", "control", "legal_basis", "status", "announced_on",
                                      "effective_from", "effective_until", "suspensions", "responds_to", "negotiation_id", "issue_id",
                                      "source_id", "notes", "in_effect_today"]
    static let exportControlWritable = Array(exportControlFields.dropLast())

    /// A suspension window as the API writes it: every member present.
    static func window(_ from: String, _ until: String?, _ note: String? = nil) -> JSONValue {
        .object([("from", .string(from)), ("until", until.map(JSONValue.string) ?? .null), ("note", note.map(JSONValue.string) ?? .null)])
    }

    /// A `responds_to` reference.
    static func reference(_ type: String, _ id: Int) -> JSONValue {
        .object([("type", .string(type)), ("id", .int(id))])
    }

    /// A JSON array of windows for a request body: `[("2025-05-01", "2025-06-01"), …]` (nil until = open-ended).
    static func windowsJSON(_ windows: [(String, String?)]) -> String {
        "[" + windows.map { from, until in
            #"{"from":"\#(from)","until":\#(until.map { "\"\($0)\"" } ?? "null")}"#
        }.joined(separator: ",") + "]"
    }

    /// A JSON object of `defaults` (name, JSON text) and `extra` (`,"name":value…`), whose members replace the
    /// default ones of the same name (a body never repeats a key: that would be a 400).
    static func body(_ defaults: [(String, String)], _ extra: String) -> String {
        let extraMembers = String(extra.drop { $0 == "," || $0.isWhitespace })
        let replaced = Set((try? JSONParser.parse(Array("{\(extraMembers)}".utf8)))?.keys ?? [])
        let kept = defaults.filter { !replaced.contains($0.0) }.map { "\"\($0.0)\":\($0.1)" }
        return "{" + (kept + [extraMembers]).filter { !$0.isEmpty }.joined(separator: ",") + "}"
    }

    /// A series body as `from until total` lines, `-` for an open end.
    static func lines(_ body: JSONValue) -> [String] {
        (body["data"]?.arrayValue ?? []).map { row in
            let total = row["total_rate_percent"].map { String(decoding: $0.encoded, as: UTF8.self) } ?? "?"
            return "\(row["from"]?.stringValue ?? "?") \(row["until"]?.stringValue ?? "-") \(total)"
        }
    }
}

extension ResourceAPI {
    /// An export control with valid defaults; returns its id (fails the test unless 201).
    @discardableResult
    func exportControl(by: String = "CHN", items: String = #"["dysprosium"]"#, control: String = "licence_required",
                       from: String = "2025-04-04", extra: String = "", file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        try create("/v1/export-controls",
                   #"{"imposed_by":"\#(by)","items":\#(items),"control":"\#(control)","effective_from":"\#(from)"\#(extra)}"#,
                   file: file, line: line)
    }
}

extension ViewApp {
    /// An export control; returns its id (fails the test unless 201).
    @discardableResult
    func exportControl(by: String, items: String = #"["dysprosium"]"#, control: String = "licence_required", from: String,
                       extra: String = "", file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        try create("/v1/export-controls",
                   #"{"imposed_by":"\#(by)","items":\#(items),"control":"\#(control)","effective_from":"\#(from)"\#(extra)}"#,
                   file: file, line: line)
    }

    func rate(_ by: String, _ on: String, _ day: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        try json("/v1/tariff-rates?imposed_by=\(by)&imposed_on=\(on)&as_of=\(day)", file: file, line: line)
    }

    func series(_ by: String, _ on: String, from: String, to: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        Measures.lines(try json("/v1/tariff-rates/history?imposed_by=\(by)&imposed_on=\(on)&from=\(from)&to=\(to)", file: file, line: line))
    }

    /// The ids a list answers, in order.
    func ids(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> [Int] {
        (try json(path, file: file, line: line)["data"]?.arrayValue ?? []).map { $0["id"]?.intValue ?? -1 }
    }

    /// The negotiation `id` in the status document.
    func statusEntry(_ id: Int, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        let all = try json("/v1/status", file: file, line: line)["negotiations"]?.arrayValue ?? []
        return try XCTUnwrap(all.first { $0["id"]?.intValue == id }, "negotiation \(id) in the status document", file: file, line: line)
    }
}
