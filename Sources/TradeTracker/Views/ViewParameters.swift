import HTTPServer

/// The query of a view that is not a list: each parameter at most once, unknown ones refused, all as 400s naming
/// the parameter (API.md §1).
struct ViewParameters {
    private var values: [String: String] = [:]

    init(_ request: HTTPRequest, allowed: [String]) throws(Problem) {
        for (name, value) in try request.validatedQueryItems() {
            guard allowed.contains(name) else {
                let takes = allowed.isEmpty ? "it takes none" : "it takes \(allowed.joined(separator: ", "))"
                throw APIError.invalidParameter(name, "is not a parameter of this view; \(takes)")
            }
            guard values[name] == nil else { throw APIError.invalidParameter(name, "is given more than once") }
            values[name] = value
        }
    }

    /// The parameter's value as given, if it was.
    subscript(_ name: String) -> String? { values[name] }

    /// A switch written `1`/`true` or `0`/`false` (absent: false).
    func flag(_ name: String) throws(Problem) -> Bool {
        switch values[name] {
        case nil, "0"?, "false"?: return false
        case "1"?, "true"?: return true
        default: throw APIError.invalidParameter(name, "must be 1 or true, 0 or false")
        }
    }

    /// A required ISO 3166-1 alpha-3 code.
    func country(_ name: String) throws(Problem) -> String {
        guard let value = values[name] else { throw APIError.invalidParameter(name, "is required (a country code such as USA)") }
        guard Countries.isKnown(value) else {
            throw APIError.invalidParameter(name, "'\(value)' is not an ISO 3166-1 alpha-3 country code")
        }
        return value
    }

    /// A date, or `fallback` when the parameter is absent (nil fallback: required).
    func date(_ name: String, default fallback: CalendarDate?) throws(Problem) -> CalendarDate {
        guard let value = values[name] else {
            guard let fallback else { throw APIError.invalidParameter(name, "is required (a date written YYYY-MM-DD)") }
            return fallback
        }
        guard let date = CalendarDate(value) else { throw APIError.invalidParameter(name, "must be a real date written YYYY-MM-DD") }
        return date
    }

    /// `imposed_by` and `imposed_on`, which must differ.
    func tariffPair() throws(Problem) -> (by: String, on: String) {
        let by = try country("imposed_by"), on = try country("imposed_on")
        guard by != on else { throw APIError.invalidParameter("imposed_on", "must differ from imposed_by") }
        return (by, on)
    }
}
