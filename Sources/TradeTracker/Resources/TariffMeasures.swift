import HTTPServer
import SQLite

enum TariffMeasures {
    static let statuses = ["proposed", "enacted", "withdrawn"]
    static let coverages = ["all_goods", "partial"]

    static let reference = Reference(table: "tariff_measures", singular: "tariff measure")

    static let spec = ResourceSpec(
        name: "tariff-measures", singular: "tariff measure", table: "tariff_measures",
        fields: [
            Field("imposed_by", .country, required: true),
            Field("imposed_on", .country, required: true),
            Field("rate_percent", .rate, required: true, column: "rate_hundredths"),
            Field("coverage", .enumeration(coverages), default: .text("all_goods")),
            Field("scope", .text(min: 0, max: 10_000)),
            Field("legal_basis", .text(min: 0, max: 500)),
            Field("status", .enumeration(statuses), default: .text("enacted")),
            Field("announced_on", .date),
            Field("effective_from", .date, required: true),
            Field("effective_until", .date),
            Field("suspensions", .suspensions, default: .text("[]")),
            Field("hs_codes", .hsCodes, default: .text("[]")),
            Field("responds_to", .measureReferences, default: .text("[]")),
            Field("negotiation_id", .reference(Negotiations.reference)),
            Field("source_id", .reference(Sources.reference)),
            Field("notes", .text(min: 0, max: 10_000)),
        ],
        list: ListDefinition(
            filters: [
                ListFilter(name: "imposed_by", kind: .equals(column: "imposed_by"), values: .country),
                ListFilter(name: "imposed_on", kind: .equals(column: "imposed_on"), values: .country),
                ListFilter(name: "status", kind: .equals(column: "status"), values: .enumeration(statuses)),
                ListFilter(name: "coverage", kind: .equals(column: "coverage"), values: .enumeration(coverages)),
                ListFilter(name: "negotiation_id", kind: .equals(column: "negotiation_id"), values: .id),
                ListFilter(name: "hs_code", kind: .hsCodePrefix(column: "hs_codes"), values: .hsCode),
                ListFilter(name: "in_effect_on", kind: .inEffectOn, values: .date),
            ],
            sorts: ["effective_from": "t.effective_from", "updated_at": "t.updated_at"]
        ),
        referencedBy: [
            Referrer.respondsTo(table: "tariff_measures", type: "tariff-measures"),
            Referrer.respondsTo(table: "export_controls", type: "tariff-measures"),
        ],
        computed: [MeasureFields.inEffectToday],
        validate: { values in
            var problems = DateOrder.check(values, first: "effective_from", then: "effective_until", strictly: true)
            if case .text(let by)? = values["imposed_by"], values["imposed_on"] == .text(by) {
                problems.append(.init(pointer: "/imposed_on", message: "must differ from imposed_by"))
            }
            return problems + MeasureFields.checkSuspensions(values)
        },
        checkStored: MeasureFields.referenceCheck(for: "tariff-measures")
    )
}
