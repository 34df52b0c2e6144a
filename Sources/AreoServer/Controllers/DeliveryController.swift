import AreoDelivery
import AreoProcessing
import AreoProducts
import AreoGeometry
import AreoTelemetry
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Jobs, prefetch hints, the cache's state and metrics.
struct DeliveryController: Sendable {
    let delivery: ProductDelivery

    func addRoutes(to group: RouterGroup<AreoRequestContext>, root: Router<AreoRequestContext>) {
        group.get("/jobs") { _, _ in
            try ProductResponses.json(encodable: JobList(statistics: delivery.scheduler.statistics(), jobs: delivery.scheduler.recentJobs()))
        }
        group.get("/jobs/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let status = delivery.scheduler.status(id: id) else { throw ProblemDocument(.notFound, "no job \(id) (jobs are kept while recent)") }
            return try ProductResponses.json(encodable: status)
        }
        group.post("/prefetch") { request, context in try await self.prefetch(request, context: context) }
        group.delete("/prefetch/{session}") { _, context in
            let session = context.parameters.get("session") ?? ""
            let cancelled = delivery.scheduler.release(owner: "prefetch:\(session)")
            return try ProductResponses.json(encodable: ["cancelled": cancelled])
        }
        group.get("/cache") { _, _ in
            let statistics = await delivery.cache.currentStatistics()
            let recent = await delivery.cache.entriesByRecency().prefix(50).map {
                CacheEntrySummary(key: $0.key, file: $0.attributes["file"] ?? "", bytes: $0.size, mediaType: $0.mediaType,
                                  geometryKernel: $0.attributes["kernel"], calibrationSet: $0.attributes["calibration"], createdAt: $0.createdAt)
            }
            return try ProductResponses.json(encodable: CacheState(statistics: statistics, mostRecentlyUsed: Array(recent)))
        }
        root.get("/metrics") { _, _ in
            let statistics = await delivery.cache.currentStatistics()
            let scheduler = delivery.scheduler.statistics()
            delivery.metrics.record(cache: statistics, scheduler: scheduler)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: delivery.metrics.exposition())))
        }
    }

    struct JobList: Encodable { let statistics: RenderScheduler.Statistics; let jobs: [RenderScheduler.JobStatus] }
    struct CacheEntrySummary: Encodable {
        let key: String, file: String, bytes: Int, mediaType: String, geometryKernel: String?, calibrationSet: String?, createdAt: Date
    }
    struct CacheState: Encodable { let statistics: ProductCache.Statistics; let mostRecentlyUsed: [CacheEntrySummary] }

    /// `{session, observations: [id…] | bbox: [w,s,e,n], product?: {kind, band|bands, scale, format}}`.
    struct Hint: Decodable {
        struct Product: Decodable { var kind: String?; var band: String?; var bands: String?; var scale: Double?; var format: String? }
        var session: String
        var observations: [Int]?
        var bbox: [Double]?
        var product: Product?
    }

    func prefetch(_ request: Request, context: AreoRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let hint: Hint
        do { hint = try JSONDecoder().decode(Hint.self, from: Data(body.readableBytesView)) } catch {
            throw ProblemDocument(.badRequest, "a hint is {session, observations: [id…] | bbox: [w,s,e,n], product?}: \(error)")
        }
        guard hint.session.range(of: #"^[A-Za-z0-9._-]{1,100}$"#, options: .regularExpression) != nil else {
            throw ProblemDocument(.badRequest, "session is 1–100 characters of [A-Za-z0-9._-]")
        }
        var ids = hint.observations ?? []
        if let bbox = hint.bbox {
            guard bbox.count == 4, let box = GeographicBox(west: bbox[0], south: bbox[1], east: bbox[2], north: bbox[3]) else {
                throw ProblemDocument(.badRequest, "bbox is [west, south, east, north] in degrees")
            }
            var query = ObservationCatalog.Query()
            query.region = box
            query.publicOnly = context.publicOnly
            query.limit = 50
            ids += try await delivery.search(query).map(\.observationID)
        }
        guard !ids.isEmpty || hint.bbox != nil else { throw ProblemDocument(.badRequest, "give observations or bbox") }
        guard ids.count <= 200 else { throw ProblemDocument(.badRequest, "at most 200 observations per hint") }
        let p = hint.product
        let kind = ProductRequest.Kind(rawValue: p?.kind ?? "projected") ?? .projected
        var parameters: [String: String] = [:]
        parameters["band"] = p?.band
        parameters["bands"] = p?.bands
        parameters["format"] = p?.format
        parameters["scale"] = p?.scale.map { String($0) }
        let (bands, scale, format, _) = try ObservationController.productParameters(parameters, kind: kind, defaultBands: ["PAN", "NIR", "BLU", "RED"])
        let template: ProductRequest
        do { template = try ProductRequest(observationID: 0, kind: kind, bands: bands, scale: scale, format: format) } catch {
            throw ProblemDocument(.badRequest, error.description)
        }
        // A newer hint from the same session supersedes the older one.
        let owner = "prefetch:\(hint.session)"
        let superseded = delivery.scheduler.release(owner: owner)
        let jobs = try await delivery.prefetch(template, observations: ids, owner: owner, priority: .hinted, publicOnly: context.publicOnly)
        return try ProductResponses.json(encodable: PrefetchAccepted(session: hint.session, queued: jobs, cancelled: superseded), status: .accepted)
    }

    struct PrefetchAccepted: Encodable { let session: String; let queued: [RenderScheduler.JobStatus]; let cancelled: [String] }
}
