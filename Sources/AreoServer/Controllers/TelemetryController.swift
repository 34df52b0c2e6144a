import AreoDelivery
import AreoGeometry
import AreoArchive
import AreoProducts
import AreoQuery
import AreoTelemetry
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The telemetry API under `/v1`: uploads of passes and plans, packet and fragment queries,
/// reports and anomalies, the clock-wrap calendar.
struct TelemetryController: Sendable {
    let database: Database
    /// Regenerates what a load made stale.
    let delivery: ProductDelivery
    /// Largest accepted upload.
    let maximumUploadBytes: Int
    /// Where uploads are spooled.
    let uploadDirectory: URL
    /// The mechanism offset beyond which an estimate is an anomaly.
    let corrections: CorrectionPolicy

    /// Uploads need the archivist role; telemetry queries and reports the team role (they
    /// would show embargoed observations).
    func addRoutes(to group: RouterGroup<AreoRequestContext>) {
        group.post("/passes") { request, context in
            try context.require(.archivist)
            return try await self.uploadPass(request, context: context)
        }
        group.post("/plans") { request, context in
            try context.require(.archivist)
            return try await self.uploadPlan(request, context: context)
        }
        group.get("/packets") { request, context in
            try context.require(.team)
            return try await self.packets(request, context: context)
        }
        group.get("/fragments") { request, context in
            try context.require(.team)
            return try await self.fragments(request, context: context)
        }
        group.get("/reports/completeness") { request, context in
            try context.require(.team)
            let q = request.query
            return try await Reports(database: database, logger: context.logger).completeness(
                passID: try q.integer("pass", in: 0...Int(Int32.max)), observationID: try q.integer("observation", in: 0...Int(UInt32.max)))
        }
        group.get("/reports/health") { request, context in
            try context.require(.team)
            guard let day = request.query["day"] else { throw ProblemDocument(.badRequest, "day=YYYY-MM-DD is required") }
            guard let start = GroundTime.parse(day + "T00:00:00Z"), QueryParameters.acceptedTimes.contains(start) else {
                throw ParameterError("day", "a day YYYY-MM-DD between 1990 and 2200", value: day)
            }
            return try await Reports(database: database, logger: context.logger).health(day: day)
        }
        group.get("/anomalies") { request, context in
            try context.require(.team)
            let q = request.query
            return AnomalyList(anomalies: try await Reports(database: database, logger: context.logger).anomalies(
                passID: try q.integer("pass", in: 0...Int(Int32.max)), observationID: try q.integer("observation", in: 0...Int(UInt32.max))))
        }
        group.get("/mechanism") { request, context in
            try context.require(.team)
            let q = request.query
            let records = try await ObservationCorrectionsRepository(database: database, logger: context.logger).history(
                sclk: try q.sclkRange(), observationID: try q.integer("observation", in: 0...Int(UInt32.max)), publicOnly: context.publicOnly,
                limit: try q.integer("limit", in: 1...10_000) ?? 1_000, offset: try q.integer("offset", in: 0...Int(Int32.max)) ?? 0)
            return try ProductResponses.json(encodable: MechanismReport(records: records, limitDegrees: corrections.mechanismOffsetLimitDegrees))
        }
        group.get("/clock/wraps") { request, context in
            guard let span = try request.query.timeRange("from", "to", maximumSpan: ClockService.maximumWrapSpan) else {
                throw ParameterError("from", "given with to (ISO 8601 UTC, from ≤ to, at most 400 days apart)")
            }
            return WrapList(wraps: try await ClockService(database: database, logger: context.logger)
                .wraps(from: span.lowerBound, to: span.upperBound, publicOnly: context.publicOnly))
        }
    }

    func uploadPass(_ request: Request, context: some RequestContext) async throws -> EditedResponse<PassIngestor.Report> {
        let name = try request.query.name("name") ?? "upload.dds"
        let spool = try await Uploads.spool(request, name: name, into: uploadDirectory, limit: maximumUploadBytes, what: "a pass")
        defer { try? FileManager.default.removeItem(at: spool) }
        let loaded = try await ArchiveLoads(database: database, logger: context.logger).pass(file: spool, name: name)
        try await delivery.regenerateIfChanged()
        return EditedResponse(status: loaded.input.alreadyIngested ? .ok : .created, response: loaded.input)
    }

    func uploadPlan(_ request: Request, context: some RequestContext) async throws -> PlanRepository.LoadReport {
        let name = try request.query.name("name") ?? "upload.plan.jsonl"
        let body = try await request.body.collect(upTo: 64 << 20)
        let loaded = try await ArchiveLoads(database: database, logger: context.logger).plans([(Data(body.readableBytesView), name)])
        try await delivery.regenerateIfChanged()
        return loaded.input[0]
    }

    func packets(_ request: Request, context: some RequestContext) async throws -> PacketList {
        let q = request.query
        let apid = try q.integer("apid", in: 0...2047)
        let sclk = try q.sclkRange()
        let ert = try q.ertMicroseconds()
        guard (apid != nil && sclk != nil) || ert != nil else {
            throw ProblemDocument(.badRequest, "give apid with sclk_from and sclk_to, or ert_from and ert_to")
        }
        let limit = try q.limit(standard: 1000, maximum: 10_000)
        return PacketList(packets: try await Reports(database: database, logger: context.logger).packets(apid: apid, sclk: sclk, ertMicroseconds: ert, limit: limit))
    }

    func fragments(_ request: Request, context: some RequestContext) async throws -> FragmentList {
        let q = request.query
        let sclk = try q.sclkRange(), ert = try q.ertMicroseconds()
        guard sclk != nil || ert != nil else { throw ProblemDocument(.badRequest, "give sclk_from and sclk_to, or ert_from and ert_to") }
        let limit = try q.limit(standard: 1000, maximum: 10_000)
        return FragmentList(fragments: try await Reports(database: database, logger: context.logger).fragments(sclk: sclk, ertMicroseconds: ert, limit: limit))
    }
}

struct PacketList: ResponseEncodable { let packets: [Reports.PacketRow] }
struct FragmentList: ResponseEncodable { let fragments: [Reports.FragmentRow] }
struct AnomalyList: ResponseEncodable { let anomalies: [Reports.AnomalyRow] }
struct WrapList: ResponseEncodable { let wraps: [ClockService.Wrap] }

extension PassIngestor.Report: ResponseEncodable {}
extension PlanRepository.LoadReport: ResponseEncodable {}
extension Reports.CompletenessReport: ResponseEncodable {}
extension Reports.HealthReport: ResponseEncodable {}

extension Request {
    /// The query parameters, read through ``QueryParameters``' rules (each value range-checked).
    var query: QueryParameters {
        QueryParameters(uri.queryParameters.map { (String($0.key), String($0.value)) })
    }
}
