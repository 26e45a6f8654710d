import HTTPServer
import SQLite

/// Limits one party puts on what leaves its territory (API.md §2): rare-earth licensing, bans, quotas. In effect on
/// a day by the same rule as tariff measures, suspensions included.
enum ExportControls {
    static let controls = ["licence_required", "ban", "quota", "end_use_restriction"]
    static let reference = Reference(table: "export_controls", singular: "export control")

    static let spec = ResourceSpec(
        name: "export-controls", singular: "export control", table: "export_controls",
        fields: [
            Field("imposed_by", .country, required: true),
            Field("applies_to", .countryList(min: 0, max: 250), default: .text("[]")),
            Field("items", .stringList(minItems: 1, maxItems: 200, maxLength: 200), required: true),
            Field("hs_codes", .hsCodes, default: .text("[]")),
            Field("control", .enumeration(controls), required: true),
            Field("legal_basis", .text(min: 0, max: 500)),
            Field("status", .enumeration(TariffMeasures.statuses), default: .text("enacted")),
            Field("announced_on", .date),
            Field("effective_from", .date, required: true),
            Field("effective_until", .date),
            Field("suspensions", .suspensions, default: .text("[]")),
            Field("responds_to", .measureReferences, default: .text("[]")),
            Field("negotiation_id", .reference(Negotiations.reference)),
            Field("issue_id", .reference(Issues.reference)),
            Field("source_id", .reference(Sources.reference)),
            Field("notes", .text(min: 0, max: 10_000)),
        ],
        list: ListDefinition(
            filters: [
                ListFilter(name: "imposed_by", kind: .equals(column: "imposed_by"), values: .country),
                ListFilter(name: "applies_to", kind: .destinations(column: "applies_to"), values: .country),
                ListFilter(name: "control", kind: .equals(column: "control"), values: .enumeration(controls)),
                ListFilter(name: "status", kind: .equals(column: "status"), values: .enumeration(TariffMeasures.statuses)),
                ListFilter(name: "item", kind: .jsonArrayContainsIgnoringCase(column: "items"), values: .text(maxLength: 200)),
                ListFilter(name: "hs_code", kind: .hsCodePrefix(column: "hs_codes"), values: .hsCode),
                ListFilter(name: "in_effect_on", kind: .inEffectOn, values: .date),
                ListFilter(name: "negotiation_id", kind: .equals(column: "negotiation_id"), values: .id),
                ListFilter(name: "issue_id", kind: .equals(column: "issue_id"), values: .id),
            ],
            sorts: ["effective_from": "t.effective_from", "updated_at": "t.updated_at"],
            searchTable: "export_controls_fts"
        ),
        referencedBy: [
            Referrer.respondsTo(table: "tariff_measures", type: "export-controls"),
            Referrer.respondsTo(table: "export_controls", type: "export-controls"),
        ],
        computed: [MeasureFields.inEffectToday],
        validate: { values in
            DateOrder.check(values, first: "effective_from", then: "effective_until", strictly: true) + MeasureFields.checkSuspensions(values)
        },
        checkStored: MeasureFields.referenceCheck(for: "export-controls")
    )
}
