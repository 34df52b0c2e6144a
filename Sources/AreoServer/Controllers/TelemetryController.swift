import AreoGeometry
import AreoIngest
import AreoProducts
import AreoStore
import AreoTelemetry
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The telemetry API under `/v1`: uploads of passes and plans, packet and fragment queries,
/// reports and anomalies, the clock-wrap calendar.
struct TelemetryController: Sendable {
    let database: Database
    /// Largest accepted upload.
    let maximumUploadBytes: Int
    /// Where uploads are spooled.
    let uploadDirectory: URL

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
            return try await Reports(database: database, logger: context.logger).completeness(
                passID: try request.uri.queryParameters.integer("pass"), observationID: try request.uri.queryParameters.integer("observation"))
        }
        group.get("/reports/health") { request, context in
            try context.require(.team)
            guard let day = request.uri.queryParameters["day"].map(String.init) else { throw ProblemDocument(.badRequest, "day=YYYY-MM-DD is required") }
            return try await Reports(database: database, logger: context.logger).health(day: day)
        }
        group.get("/anomalies") { request, context in
            try context.require(.team)
            return AnomalyList(anomalies: try await Reports(database: database, logger: context.logger).anomalies(
                passID: try request.uri.queryParameters.integer("pass"), observationID: try request.uri.queryParameters.integer("observation")))
        }
        group.get("/clock/wraps") { request, context in
            let from = try request.uri.queryParameters.time("from"), to = try request.uri.queryParameters.time("to")
            guard let from, let to, from <= to else { throw ProblemDocument(.badRequest, "from and to (ISO 8601 UTC, from ≤ to) are required") }
            return WrapList(wraps: try await ClockService(database: database, logger: context.logger).wraps(from: from, to: to))
        }
    }

    func uploadPass(_ request: Request, context: some RequestContext) async throws -> EditedResponse<PassIngestor.Report> {
        let name = request.uri.queryParameters["name"].map(String.init) ?? "upload.dds"
        guard name.range(of: #"^[A-Za-z0-9._-]{1,200}$"#, options: .regularExpression) != nil else {
            throw ProblemDocument(.badRequest, "name must be a plain file name ([A-Za-z0-9._-])")
        }
        let spool = try await Uploads.spool(request, name: name, into: uploadDirectory, limit: maximumUploadBytes, what: "a pass")
        defer { try? FileManager.default.removeItem(at: spool) }
        let report = try await PassIngestor(database: database, logger: context.logger).ingest(file: spool, name: name)
        try await ObservationCatalog(database: database, logger: context.logger).refresh()
        return EditedResponse(status: report.alreadyIngested ? .ok : .created, response: report)
    }

    func uploadPlan(_ request: Request, context: some RequestContext) async throws -> PlanRepository.LoadReport {
        let name = request.uri.queryParameters["name"].map(String.init) ?? "upload.plan.jsonl"
        let body = try await request.body.collect(upTo: 64 << 20)
        let report = try await PlanRepository(database: database, logger: context.logger).load(Data(body.readableBytesView), file: name)
        try await ObservationCatalog(database: database, logger: context.logger).refresh()
        return report
    }

    func packets(_ request: Request, context: some RequestContext) async throws -> PacketList {
        let q = request.uri.queryParameters
        let apid = try q.integer("apid")
        let sclk = try q.sclkRange()
        let ert = try q.ertRange()
        guard (apid != nil && sclk != nil) || ert != nil else {
            throw ProblemDocument(.badRequest, "give apid with sclk_from and sclk_to, or ert_from and ert_to")
        }
        let limit = min(try q.integer("limit") ?? 1000, 10_000)
        return PacketList(packets: try await Reports(database: database, logger: context.logger).packets(apid: apid, sclk: sclk, ertMicroseconds: ert, limit: limit))
    }

    func fragments(_ request: Request, context: some RequestContext) async throws -> FragmentList {
        let q = request.uri.queryParameters
        let sclk = try q.sclkRange(), ert = try q.ertRange()
        guard sclk != nil || ert != nil else { throw ProblemDocument(.badRequest, "give sclk_from and sclk_to, or ert_from and ert_to") }
        let limit = min(try q.integer("limit") ?? 1000, 10_000)
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

extension Hummingbird.Parameters {
    func integer(_ name: String) throws -> Int? {
        guard let text = self[Substring(name)] else { return nil }
        guard let value = Int(text) else { throw ProblemDocument(.badRequest, "\(name) must be an integer, is '\(text)'") }
        return value
    }

    func time(_ name: String) throws -> Date? {
        guard let text = self[Substring(name)] else { return nil }
        guard let date = GroundTime.parse(String(text)) else { throw ProblemDocument(.badRequest, "\(name) must be ISO 8601 UTC, is '\(text)'") }
        return date
    }

    func sclkRange() throws -> ClosedRange<Double>? {
        guard let a = self["sclk_from"], let b = self["sclk_to"] else { return nil }
        guard let from = Double(a), let to = Double(b), from <= to, from.isFinite, to.isFinite else {
            throw ProblemDocument(.badRequest, "sclk_from and sclk_to must be numbers of seconds, from ≤ to")
        }
        return from...to
    }

    func ertRange() throws -> ClosedRange<Int64>? {
        guard let from = try time("ert_from"), let to = try time("ert_to") else { return nil }
        guard from <= to else { throw ProblemDocument(.badRequest, "ert_from must not be after ert_to") }
        return Int64(from.timeIntervalSince1970 * 1e6)...Int64(to.timeIntervalSince1970 * 1e6)
    }
}
