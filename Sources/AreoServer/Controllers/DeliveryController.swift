import AreoArchive
import AreoDelivery
import AreoProcessing
import AreoProducts
import AreoQuery
import AreoGeometry
import AreoTelemetry
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Jobs, prefetch hints, the cache's state and metrics.
struct DeliveryController: Sendable {
    let delivery: ProductDelivery
    let sessions = PrefetchSessions()

    func addRoutes(to group: RouterGroup<AreoRequestContext>, root: Router<AreoRequestContext>) {
        // The public sees only jobs of public observations (team callers see all), and the
        // counts, which name nothing.
        group.get("/jobs") { _, context in
            let jobs = delivery.scheduler.recentJobs().filter { !context.publicOnly || $0.isPublic }
            return try ProductResponses.json(encodable: JobList(statistics: delivery.scheduler.statistics(), jobs: jobs))
        }
        group.get("/jobs/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let status = delivery.scheduler.status(id: id), !context.publicOnly || status.isPublic else {
                throw ProblemDocument(.notFound, "no job \(id.prefix(64)) (jobs are kept while recent)")
            }
            return try ProductResponses.json(encodable: status)
        }
        group.post("/prefetch") { request, context in try await self.prefetch(request, context: context) }
        group.delete("/prefetch/{session}") { _, context in
            let name = context.parameters.get("session") ?? ""
            // A session is cancelled only by who created it (the same token, or who was issued it).
            guard PlainName.isValid(name, length: 100), let session = sessions.existing(named: name, tokenID: context.tokenID) else {
                throw ProblemDocument(.notFound, "no prefetch session \(name.prefix(100)) of yours")
            }
            let cancelled = delivery.scheduler.release(owner: session.owner)
            return try ProductResponses.json(encodable: ["cancelled": cancelled])
        }
        group.get("/cache") { _, context in
            let statistics = delivery.cache.currentStatistics()
            var visible: [ProductCache.Entry] = []
            for entry in delivery.cache.entriesByRecency() where visible.count < 50 {
                let shown = context.publicOnly ? await delivery.isPublic(entry) : true
                if shown { visible.append(entry) }
            }
            let recent = visible.map {
                CacheEntrySummary(key: $0.key, file: $0.attributes["file"] ?? "", bytes: $0.size, mediaType: $0.mediaType,
                                  geometryKernel: $0.attributes["kernel"], calibrationSet: $0.attributes["calibration"], createdAt: $0.createdAt)
            }
            return try ProductResponses.json(encodable: CacheState(statistics: statistics, mostRecentlyUsed: Array(recent)))
        }
        root.get("/metrics") { _, _ in
            let statistics = delivery.cache.currentStatistics()
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

    /// `{session?, observations: [id…] | bbox: [w,s,e,n], product?: {kind, band|bands, scale, format}}`.
    struct Hint: Decodable {
        struct Product: Decodable { var kind: String?; var band: String?; var bands: String?; var scale: Double?; var format: String? }
        /// A browsing client's tiles: `{tms, product?, format?, tiles: [[z, x, y]…]}`.
        struct Tiles: Decodable { var tms: String; var product: String?; var format: String?; var tiles: [[Int]] }
        var session: String?
        var observations: [Int]?
        var bbox: [Double]?
        var product: Product?
        var tiles: Tiles?
    }

    /// The most tiles one hint may name (a large viewport, its ring and the next zoom).
    static let maximumHintedTiles = 300

    func prefetch(_ request: Request, context: AreoRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let hint: Hint
        do { hint = try JSONDecoder().decode(Hint.self, from: Data(body.readableBytesView)) } catch {
            throw ProblemDocument(.badRequest, "a hint is {session, observations: [id…] | bbox: [w,s,e,n], product?}: \(error)")
        }
        if let name = hint.session, !PlainName.isValid(name, length: 100) {
            throw ParameterError("session", "1–100 characters of [A-Za-z0-9._-]", value: name)
        }
        if let tiles = hint.tiles {
            guard hint.observations == nil, hint.bbox == nil else { throw ProblemDocument(.badRequest, "a hint names tiles, or observations and a bbox, not both") }
            return try await prefetch(tiles, session: hint.session, context: context)
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
        guard ids.allSatisfy({ (0...Int(UInt32.max)).contains($0) }) else { throw ParameterError("observations", "ids in 0…4294967295") }
        let p = hint.product
        guard let kind = ProductRequest.Kind(rawValue: p?.kind ?? "projected") else {
            throw ParameterError("product.kind", "one of \(ProductRequest.Kind.allCases.map(\.rawValue).joined(separator: ", "))", value: p?.kind)
        }
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
        let session = sessions.session(named: hint.session, tokenID: context.tokenID)
        let superseded = delivery.scheduler.release(owner: session.owner)
        let jobs = try await delivery.prefetch(template, observations: ids, owner: session.owner, priority: .hinted, publicOnly: context.publicOnly)
        return try ProductResponses.json(encodable: PrefetchAccepted(session: session.id, queued: jobs, cancelled: superseded), status: .accepted)
    }

    /// A tile hint: the tiles are checked against their set, rendered at hinted priority for the
    /// session, superseding its previous hint (whose renders not hinted again are cancelled).
    func prefetch(_ hint: Hint.Tiles, session name: String?, context: AreoRequestContext) async throws -> Response {
        guard hint.tiles.count <= Self.maximumHintedTiles else { throw ProblemDocument(.badRequest, "at most \(Self.maximumHintedTiles) tiles per hint") }
        let bands = try TilesController.layer(hint.product)
        let format = try TilesController.format(hint.format ?? "png")
        var requests: [TileRequest] = []
        for triple in hint.tiles {
            guard triple.count == 3 else { throw ProblemDocument(.badRequest, "each tile is [z, x, y]") }
            let tile = try TilesController.tile(set: hint.tms, zoom: String(triple[0]), column: String(triple[1]), row: String(triple[2]))
            do { requests.append(try TileRequest(tile: tile, bands: bands, format: format)) } catch {
                throw ProblemDocument(.badRequest, error.description, code: "invalid_parameter")
            }
        }
        let session = sessions.session(named: name, tokenID: context.tokenID)
        let (jobs, superseded) = try await delivery.prefetchTiles(requests, owner: session.owner, priority: .hinted, publicOnly: context.publicOnly)
        return try ProductResponses.json(encodable: PrefetchAccepted(session: session.id, queued: jobs, cancelled: superseded), status: .accepted)
    }

    struct PrefetchAccepted: Encodable { let session: String; let queued: [RenderScheduler.JobStatus]; let cancelled: [String] }
}
