import HTTPServer

/// Every `/v1` route of the product: the catalogue's resources, then the dashboard views.
enum APIRoutes {
    static func register(context: APIContext, on router: inout Router) {
        ResourceCatalogue.register(context: context, on: &router)
        TariffRates.register(context: context, on: &router)
        TariffRateHistory.register(context: context, on: &router)
        StatusView.register(context: context, on: &router)
        Timeline.register(context: context, on: &router)
    }
}
