import AreoArchive
import AreoDelivery
import AreoProducts
import AreoQuery
import AreoTelemetry
import Foundation
import Hummingbird
import Logging

/// Geometry refinement over HTTP (ICD §12): refine an observation now (archivist), list the
/// refinements and the predicted kernels' timing errors (team: they name embargoed observations).
struct GeometryController: Sendable {
    let database: Database
    let delivery: ProductDelivery
    let refinement: GeometryRefinementService

    func addRoutes(to group: RouterGroup<AreoRequestContext>) {
        group.post("/observations/{id}/refine") { request, context in
            try context.require(.archivist)
            let text = context.parameters.get("id") ?? ""
            guard let id = Int(text), (0...Int(UInt32.max)).contains(id) else { throw ParameterError("id", "an observation id, an integer in 0…4294967295", value: text) }
            let record = try await refinement.refine(observationID: id, trigger: .request)
            // This server moves to the refined kernel at once (others hear of it through the load's notification).
            try await delivery.regenerateIfChanged()
            return try ProductResponses.json(encodable: record, status: record.accepted ? .created : .unprocessableContent)
        }
        group.get("/geometry/refinements") { request, context in
            try context.require(.team)
            let q = request.query
            let records = try await GeometryRefinementRepository(database: database, logger: context.logger).list(
                observationID: try q.integer("observation", in: 0...Int(UInt32.max)), limit: try q.integer("limit", in: 1...10_000) ?? 100)
            return try ProductResponses.json(encodable: ["refinements": records])
        }
        group.get("/geometry/timing") { request, context in
            try context.require(.team)
            let span = try request.query.timeRange("from", "to")
            let (from, to) = (span.map { GroundTime.t(date: $0.lowerBound) } ?? -1e15, span.map { GroundTime.t(date: $0.upperBound) } ?? 1e15)
            let records = try await GeometryRefinementRepository(database: database, logger: context.logger).predictedTiming(fromT: from, toT: to)
            return try ProductResponses.json(encodable: TimingReport(records))
        }
    }
}
