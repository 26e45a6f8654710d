/// One kind of record an import writes and a full export reads: the catalogue's resources and sub-resources, in
/// the order a full export writes them and an import must meet them (each after what it refers to).
struct TransferResource: Sendable {
    /// The change log's name, which import lines carry as `resource` (`rounds`, `round-participants`).
    let name: String
    let spec: ResourceSpec
    /// Whether its records have an `id` of their own (attendance records do not).
    let hasID: Bool
    /// For a sub-resource, the member naming the record it belongs to (`round_id`, `issue_id`) and that record's kind.
    let parent: (member: String, spec: ResourceSpec)?
    /// Members an export writes that are computed when read (`in_effect_today`, an attendance record's
    /// `participant`): an import accepts and ignores them.
    let derived: Set<String>
    /// Stores one decoded record (its parent's id for a sub-resource) in the caller's transaction.
    let write: @Sendable (WriteService, WriteTransaction, _ parentID: Int64?, RecordInput) throws -> Void
    /// Every stored record, in id order (attendance: by round, then as a round lists it), as the list exports write them.
    let export: @Sendable (_ today: CalendarDate) -> ListExport

    /// The members of a record that are not fields (the stamp, the parent, derived ones): the import reads them itself.
    let ownMembers: Set<String>

    init(name: String, spec: ResourceSpec, hasID: Bool, parent: (member: String, spec: ResourceSpec)?, derived: Set<String>,
         write: @escaping @Sendable (WriteService, WriteTransaction, Int64?, RecordInput) throws -> Void,
         export: @escaping @Sendable (CalendarDate) -> ListExport) {
        self.name = name
        self.spec = spec
        self.hasID = hasID
        self.parent = parent
        self.derived = derived
        self.write = write
        self.export = export
        ownMembers = Set(RecordStamp.memberNames(withID: hasID) + (parent.map { [$0.member] } ?? [])).union(derived)
    }
}

enum TransferCatalogue {
    static let all: [TransferResource] = ResourceCatalogue.resources.map(resource) + ResourceCatalogue.subResources.map(subResource)

    static func named(_ name: String) -> TransferResource? { all.first { $0.name == name } }

    static var names: [String] { all.map(\.name) }

    private static func resource(_ spec: ResourceSpec) -> TransferResource {
        TransferResource(name: spec.name, spec: spec, hasID: true, parent: nil, derived: Set(spec.computed.map(\.name)),
                         write: { writes, transaction, _, input in _ = try writes.insertRecord(transaction, spec, input) },
                         export: { today in ResourceRoutes.exportByID(spec, today: today) })
    }

    private static func subResource(_ sub: SubResource) -> TransferResource {
        let parent = ResourceCatalogue.resource(named: sub.parent)!
        return TransferResource(name: sub.spec.name, spec: sub.spec, hasID: sub.hasOwnID, parent: (parent.singular + "_id", parent),
                                derived: sub.derivedMembers,
                                write: { writes, transaction, parentID, input in try sub.add(writes, transaction, parentID ?? 0, input) },
                                export: sub.exportAll)
    }
}
