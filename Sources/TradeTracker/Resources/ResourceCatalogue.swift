import HTTPServer
import SQLite

/// Records that live under another resource (`/v1/rounds/{id}/participants`): the change log names them, and the
/// demo file nests them inside their parent's items under `demoMember`.
struct SubResource: Sendable {
    let spec: ResourceSpec
    /// The catalogue resource they belong to.
    let parent: String
    let demoMember: String
    /// Whether its records have an `id` of their own (issue updates do; attendance is keyed by round and participant).
    let hasOwnID: Bool
    /// Members its records carry that are read from other records (an attendance record's participant summary):
    /// a full export writes them, an import ignores them.
    let derivedMembers: Set<String>
    /// Every stored record, as its lists export them, for a full export.
    let exportAll: @Sendable (_ today: CalendarDate) -> ListExport
    /// Stores one decoded nested item of the parent record `parentID`, inside the caller's transaction.
    let add: @Sendable (WriteService, WriteTransaction, _ parentID: Int64, RecordInput) throws -> Void
}

/// The one list of the API's resources. It drives the standard routes and `/history` of each, the change feed's
/// `resource` filter, the demo loader's sections and the OpenAPI coverage test; a test ties it to the schema.
/// Adding a resource: its file under `Resources/`, an entry here, a migration and `openapi.yaml`.
enum ResourceCatalogue {
    /// Top-level resources, in load order: each after the ones it refers to.
    static let resources: [ResourceSpec] = [
        Sources.spec, Negotiations.spec, Participants.spec, Rounds.spec, Issues.spec, TariffMeasures.spec, ExportControls.spec,
        Statements.spec,
    ]

    static let subResources: [SubResource] = [Attendance.subResource, IssueUpdates.subResource]

    /// Routes beyond the standard ones, registered after them.
    static let extraRoutes: [@Sendable (APIContext, inout Router) -> Void] = [
        Negotiations.registerRoutes, Attendance.registerRoutes, IssueUpdates.registerRoutes, MeasureResponses.registerRoutes,
    ]

    /// Every name the change log may carry in `resource`.
    static var changeLogNames: [String] { resources.map(\.name) + subResources.map(\.spec.name) }

    static func resource(named name: String) -> ResourceSpec? { resources.first { $0.name == name } }

    /// The API's name for the records of a table (`tariff_measures` → `tariff-measures`).
    static func name(ofTable table: String) -> String {
        (resources + subResources.map(\.spec)).first { $0.table == table }?.name ?? table.replacingOccurrences(of: "_", with: "-")
    }

    /// Standard routes and history for every resource, then the extra routes.
    static func register(context: APIContext, on router: inout Router) {
        for spec in resources {
            ResourceRoutes(spec: spec, context: context).register(on: &router)
            RecordHistory.register(spec, context: context, on: &router)
        }
        for register in extraRoutes { register(context, &router) }
    }
}
