import HTTPServer

/// Every `/v1` route of the product.
enum APIRoutes {
    static let resources: [ResourceSpec] = [
        Negotiations.spec, Rounds.spec, Participants.spec, Issues.spec, TariffMeasures.spec, Statements.spec, Sources.spec,
    ]

    static func register(context: APIContext, on router: inout Router) {
        for spec in resources {
            let routes = ResourceRoutes(spec: spec, context: context)
            if spec.name == Negotiations.spec.name { Negotiations.registerBySlug(routes, on: &router) }
            routes.register(on: &router)
        }
        Attendance.register(context: context, on: &router)
        IssueUpdates.register(context: context, on: &router)
        TariffRates.register(context: context, on: &router)
        TariffRateHistory.register(context: context, on: &router)
        StatusView.register(context: context, on: &router)
        Timeline.register(context: context, on: &router)
        RecordHistory.register(context: context, on: &router)
    }
}
