import HTTPServer
import SQLite

enum Negotiations {
    static let statuses = ["active", "paused", "concluded", "collapsed"]

    static let spec = ResourceSpec(
        name: "negotiations", singular: "negotiation", table: "negotiations",
        fields: [
            Field("slug", .slug, required: true),
            Field("title", .text(min: 1, max: 200), required: true),
            Field("parties", .countryList(min: 2, max: 50), required: true),
            Field("status", .enumeration(statuses), default: .text("active")),
            Field("summary", .text(min: 0, max: 10_000)),
            Field("started_on", .date),
            Field("ended_on", .date),
            Field("record_complete_through", .date),
        ],
        list: ListDefinition(
            filters: [
                ListFilter(name: "status", kind: .equals(column: "status"), values: .enumeration(statuses)),
                ListFilter(name: "party", kind: .jsonArrayContains(column: "parties"), values: .country),
            ],
            sorts: ["started_on": "COALESCE(t.started_on, '')", "title": "t.title", "updated_at": "t.updated_at"],
            searchTable: "negotiations_fts"
        ),
        referencedBy: [
            Referrer(table: "rounds", column: "negotiation_id"),
            Referrer(table: "issues", column: "negotiation_id"),
            Referrer(table: "tariff_measures", column: "negotiation_id"),
            Referrer(table: "statements", column: "negotiation_id"),
            Referrer(table: "export_controls", column: "negotiation_id"),
        ],
        validate: { values in
            DateOrder.check(values, first: "started_on", then: "ended_on", strictly: false)
        }
    )

    static let reference = Reference(table: "negotiations", singular: "negotiation")

    /// `GET /v1/negotiations/by-slug/{slug}`.
    static func registerRoutes(context: APIContext, on router: inout Router) {
        let routes = ResourceRoutes(spec: spec, context: context)
        router.add("GET", "/v1/negotiations/by-slug/{slug}") { request in
            let slug = request.pathParameters["slug"] ?? ""
            try request.refuseQuery(of: "a single negotiation")
            guard let row = try context.read({ try $0.queryOne("SELECT * FROM negotiations WHERE slug = ?", [.text(slug)]) })
            else { throw APIError.notFound(detail: "no negotiation with slug \(slug)") }
            return routes.recordResponse(row)
        }
    }
}

/// Date-order rules shared by several resources (ends_on ≥ starts_on, effective_until > effective_from).
enum DateOrder {
    static func check(_ values: RecordValues, first: String, then second: String, strictly: Bool) -> [Problem.FieldError] {
        guard case .text(let a)? = values[first], case .text(let b)? = values[second] else { return [] }
        if strictly ? b <= a : b < a {
            return [.init(pointer: "/\(second)", message: strictly ? "must be after \(first)" : "must not be before \(first)")]
        }
        return []
    }
}
