import AreoDelivery
import AreoGeometry
import AreoArchive
import AreoProcessing
import AreoProducts
import AreoQuery
import AreoTelemetry
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Search, one observation, its products, and region mosaics.
struct ObservationController: Sendable {
    let database: Database
    let delivery: ProductDelivery
    /// Cold renders per client.
    let limits: ClientLimits

    func addRoutes(to group: RouterGroup<AreoRequestContext>) {
        group.get("/observations") { request, context in try await self.search(request, context: context) }
        group.get("/observations/{id}") { request, context in try await self.observation(request, context: context) }
        group.get("/observations/{id}/products/{kind}") { request, context in try await self.product(request, context: context) }
        group.get("/mosaic") { request, context in try await self.mosaic(request, context: context) }
    }

    // MARK: Search

    func search(_ request: Request, context: AreoRequestContext) async throws -> Response {
        let q = request.query
        var query = ObservationCatalog.Query()
        query.region = try q.box("bbox")
        query.sclk = try q.sclkRange()
        query.utc = try q.timeRange("utc_from", "utc_to")
        query.ert = try q.timeRange("ert_from", "ert_to")
        query.band = try q.choice("band", of: Band.allCases.map(\.name))
        if let target = q["target"] {
            guard target.count <= 100 else { throw ParameterError("target", "at most 100 characters") }
            query.target = target
        }
        query.status = try q.choice("status", of: ["complete", "partial", "corrupt", "unplanned"])
        query.limit = try q.limit(standard: 100, maximum: 1000)
        query.offset = try q.offset()
        query.publicOnly = context.publicOnly
        let (entries, total) = try await ObservationCatalog(database: database, logger: context.logger).search(query)
        if let format = q["format"], format != "json" {
            guard format == "geojson" else { throw ParameterError("format", "json or geojson", value: String(format.prefix(20))) }
            // Footprints for map clients (RFC 7946); the page's map draws these.
            let collection = FootprintCollection(total: total, features: entries.map { entry in
                FootprintCollection.Feature(geometry: entry.footprint?.geoJSON, properties: ObservationSummary(entry))
            })
            return try ProductResponses.json(encodable: collection, headers: [.contentType: "application/geo+json"])
        }
        var page = ObservationPage(total: total, limit: query.limit, offset: query.offset, observations: entries.map(ObservationSummary.init))
        if query.offset + entries.count < total {
            var next = URLComponents()
            next.path = "/v1/observations"
            next.queryItems = q.all.filter { $0.key != "offset" }.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
                + [URLQueryItem(name: "offset", value: String(query.offset + entries.count))]
            page.next = next.string
        }
        return try ProductResponses.json(encodable: page)
    }

    // MARK: One observation

    /// The catalogue entry if the caller may see it; 404 otherwise (embargoed data does not exist for the public).
    func visibleEntry(_ request: Request, context: AreoRequestContext) async throws -> ObservationCatalog.Entry {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int(text), (0...Int(UInt32.max)).contains(id) else { throw ParameterError("id", "an observation id, an integer in 0…4294967295", value: text) }
        guard let entry = try await delivery.entry(observationID: id), !context.publicOnly || entry.isPublic() else {
            throw ProblemDocument(.notFound, "observation \(id) is not in the archive")
        }
        return entry
    }

    func observation(_ request: Request, context: AreoRequestContext) async throws -> Response {
        let entry = try await visibleEntry(request, context: context)
        let reports = Reports(database: database, logger: context.logger)
        let completeness = try await reports.completeness(observationID: entry.observationID)
        var products: [String: String] = [:]
        if let band = entry.bands.first {
            products["raw"] = "/v1/observations/\(entry.observationID)/products/raw?band=\(band)&format=png"
            products["calibrated"] = "/v1/observations/\(entry.observationID)/products/calibrated?band=\(band)&format=dat"
            products["projected"] = "/v1/observations/\(entry.observationID)/products/projected?band=\(band)&format=png"
        }
        if let composite = ProductRequest.composites.first(where: { $0.allSatisfy { entry.bands.contains($0.name) } }) {
            products["composite"] = "/v1/observations/\(entry.observationID)/products/composite?bands=\(composite.map(\.name).joined(separator: ","))&format=png"
        }
        let plan = try await PlanRepository(database: database, logger: context.logger).plan(observationID: entry.observationID)
        // The quality measures of the products of this observation made so far (cached).
        var quality: [String: String] = [:]
        for cached in delivery.cache.entriesByRecency() where cached.observationID == entry.observationID && quality.count < 20 {
            if let file = cached.attributes["file"], let measures = cached.attributes["quality"] { quality[file] = measures }
        }
        let document = ObservationDocument(
            summary: ObservationSummary(entry),
            plan: plan.map { .init(rationale: $0.rationale, requestedBy: $0.requestedBy, targetID: $0.targetID) },
            quality: quality.mapValues { ObservationDocument.Quality(json: $0) },
            applicable: .init(geometryKernel: entry.kernelID, calibrationSet: entry.calibrationID),
            footprint: entry.footprint.map { .init(geometry: $0.geoJSON, properties: .init(observation: entry.observationID)) },
            firstERT: entry.firstERT.map { GroundTime.iso8601($0) }, lastERT: entry.lastERT.map { GroundTime.iso8601($0) },
            completeness: completeness.observations.first, anomalies: completeness.anomalies, products: products)
        return try ProductResponses.json(encodable: document)
    }

    // MARK: Products

    func product(_ request: Request, context: AreoRequestContext) async throws -> Response {
        let entry = try await visibleEntry(request, context: context)
        let (product, label) = try Self.productRequest(request, context: context, observationID: entry.observationID, entry: entry)
        let publicOnly = context.publicOnly
        if request.headers[.preferHeader]?.contains("respond-async") == true {
            let jobs = try await delivery.prefetch(product, observations: [entry.observationID], owner: "async:\(context.id)", priority: .interactive, publicOnly: publicOnly)
            guard let job = jobs.first else {
                return try await ProductResponses.response(
                    try await delivery.product(product, entry: entry, label: label), request: request, context: context, publicProduct: entry.isPublic())
            }
            return try ProductResponses.json(encodable: job, status: .accepted, headers: [.location: "/v1/jobs/\(job.id)"])
        }
        let delivery = self.delivery
        let served: ProductDelivery.Served
        if let hit = try await delivery.cached(product, entry: entry, label: label) {
            served = hit
        } else {
            served = try await limits.withRenderSlot(context.clientKey, product: "\(product.fileName)|\(label)") {
                try await ProductResponses.whileConnected(context) { try await delivery.product(product, entry: entry, label: label) }
            }
        }
        let response = try await ProductResponses.response(served, request: request, context: context, publicProduct: entry.isPublic())
        // Browsing goes on nearby: render the neighbours' same product in the background.
        do { try await delivery.queueNeighbours(of: product, entry: entry, publicOnly: publicOnly) } catch {
            context.logger.warning("neighbours not queued", metadata: ["error": "\(error)"])
        }
        return response
    }

    /// The product request in the path and query (`band` or `bands`, `scale`, `format`).
    static func productRequest(_ request: Request, context: AreoRequestContext, observationID: Int, entry: ObservationCatalog.Entry?) throws -> (ProductRequest, label: Bool) {
        let kindText = context.parameters.get("kind") ?? ""
        guard let kind = ProductRequest.Kind(rawValue: kindText) else {
            throw ProblemDocument(.notFound, "product kinds are \(ProductRequest.Kind.allCases.map(\.rawValue).joined(separator: ", ")), not '\(kindText)'")
        }
        let (bands, scale, format, label) = try Self.productParameters(request.query.all, kind: kind, defaultBands: entry?.bands ?? [])
        // A combination no product has (ProcessingError.invalidRequest) answers 400 through the one mapping.
        return (try ProductRequest(observationID: observationID, kind: kind, bands: bands, scale: scale, format: format), label)
    }

    static func productParameters(_ q: [String: String], kind: ProductRequest.Kind, defaultBands: [String]) throws -> ([Band], Double, ProductFormat, Bool) {
        let formatText = q["format"] ?? "png"
        let label = formatText == "xml"
        guard let format = label ? .dat : ProductFormat(rawValue: formatText) else {
            throw ParameterError("format", "png, jpg, dat or xml (the PDS4 label of the dat)", value: formatText)
        }
        let bandText = q["bands"] ?? q["band"]
            ?? (kind == .composite ? ProductRequest.composites.first { $0.allSatisfy { defaultBands.contains($0.name) } }?.map(\.name).joined(separator: ",") : defaultBands.first)
            ?? ""
        let bands = bandText.split(separator: ",").map { Band(name: String($0)) }
        guard !bands.isEmpty, bands.allSatisfy({ $0 != nil }) else {
            throw ParameterError("band", "a band (or bands for composites) of \(Band.allCases.map(\.name).joined(separator: ", "))", value: bandText)
        }
        var scale = ProductRequest.defaultScale
        if let text = q["scale"] {
            guard let value = Double(text), value.isFinite, value >= 0.5, value <= 100_000 else {
                throw ParameterError("scale", "metres per pixel, 0.5 to 100000", value: text)
            }
            scale = value
        }
        return (bands.compactMap { $0 }, scale, format, label)
    }

    // MARK: Region mosaics

    func mosaic(_ request: Request, context: AreoRequestContext) async throws -> Response {
        let q = request.query
        guard let box = try q.box("bbox") else { throw ParameterError("bbox", "given: west,south,east,north in degrees") }
        let productText = q["product"] ?? "projected"
        let parts = productText.split(separator: ":", maxSplits: 1).map(String.init)
        guard let kind = ProductRequest.Kind(rawValue: parts[0]), kind == .projected || kind == .composite else {
            throw ParameterError("product", "projected[:BAND] or composite[:B1,B2,B3]", value: productText)
        }
        var parameters = q.all
        if parts.count == 2 { parameters["bands"] = parts[1] }
        let (bands, scale, format, label) = try Self.productParameters(parameters, kind: kind, defaultBands: ["PAN", "NIR", "BLU", "RED"])
        guard !label else { throw ParameterError("format", "png or jpg for a region mosaic", value: "xml") }
        let region: RegionRequest
        do {
            region = try RegionRequest(region: box, scale: scale, kind: kind, bands: kind == .projected ? [bands[0]] : bands, format: format)
        } catch {
            throw ProblemDocument(.badRequest, error.description)
        }
        let (delivery, publicOnly) = (self.delivery, context.publicOnly)
        let served = try await limits.withRenderSlot(context.clientKey, product: region.fileName) {
            try await ProductResponses.whileConnected(context) { try await delivery.mosaic(region, publicOnly: publicOnly) }
        }
        return try await ProductResponses.response(served, request: request, context: context, publicProduct: publicOnly)
    }
}

// MARK: Response documents

/// One observation in a search result (docs/openapi.yaml `ObservationSummary`).
struct ObservationSummary: Encodable, Sendable {
    var id: Int
    var status: String
    var bands: [String]
    var planned: Bool
    var target: String?
    var startSCLK: Double
    var endSCLK: Double
    var startUTC: String?
    var endUTC: String?
    /// [west, south, east, north]; east may pass 180 when crossing the seam.
    var bbox: [Double]?
    var embargoUntil: String?
    var href: String

    enum CodingKeys: String, CodingKey {
        case id, status, bands, planned, target, bbox, href
        case startSCLK = "start_sclk", endSCLK = "end_sclk", startUTC = "start_utc", endUTC = "end_utc", embargoUntil = "embargo_until"
    }

    init(_ e: ObservationCatalog.Entry) {
        (id, status, bands, planned, target) = (e.observationID, e.status, e.bands, e.planned, e.target)
        (startSCLK, endSCLK, href) = (e.startSCLK, e.endSCLK, "/v1/observations/\(e.observationID)")
        startUTC = e.startUTC.map { GroundTime.iso8601($0) }
        endUTC = e.endUTC.map { GroundTime.iso8601($0) }
        bbox = e.footprint.map { f in [f.west > 180 ? f.west - 360 : f.west, f.south, f.west > 180 ? f.east - 360 : f.east, f.north] }
        embargoUntil = e.embargoUntil.map { GroundTime.iso8601($0) }
    }
}

/// Search results as a GeoJSON FeatureCollection (`format=geojson`): each observation's
/// footprint with its summary as properties.
struct FootprintCollection: Encodable, Sendable {
    struct Feature: Encodable, Sendable {
        var type = "Feature"
        var geometry: GeoJSONGeometry?
        var properties: ObservationSummary
        enum CodingKeys: String, CodingKey { case type, geometry, properties }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encode(geometry, forKey: .geometry)  // null when the footprint is unknown
            try container.encode(properties, forKey: .properties)
        }
    }
    var type = "FeatureCollection"
    var total: Int
    var features: [Feature]
}

/// A page of search results.
struct ObservationPage: Encodable, Sendable {
    var total: Int
    var limit: Int
    var offset: Int
    var observations: [ObservationSummary]
    var next: String?
}

/// One observation with everything known about it (`GET /v1/observations/{id}`).
struct ObservationDocument: Encodable, Sendable {
    struct Applicable: Encodable, Sendable {
        var geometryKernel: String?
        var calibrationSet: String?
        enum CodingKeys: String, CodingKey { case geometryKernel = "geometry_kernel", calibrationSet = "calibration_set" }
    }
    struct Footprint: Encodable, Sendable {
        struct Properties: Encodable, Sendable { var observation: Int }
        var type = "Feature"
        var geometry: GeoJSONGeometry
        var properties: Properties
    }
    /// What the plan says of the observation's purpose.
    struct Plan: Encodable, Sendable {
        var rationale: String?
        var requestedBy: String?
        var targetID: String?
        enum CodingKeys: String, CodingKey { case rationale; case requestedBy = "requested_by"; case targetID = "target_id" }
    }
    /// A product's quality measures as the render recorded them (a JSON object).
    struct Quality: Encodable, Sendable {
        var json: String
        func encode(to encoder: any Encoder) throws {
            let object = (try? JSONDecoder().decode([String: Double?].self, from: Data(json.utf8))) ?? [:]
            var container = encoder.singleValueContainer()
            try container.encode(object)
        }
    }
    var summary: ObservationSummary
    var plan: Plan?
    var quality: [String: Quality]
    var applicable: Applicable
    var footprint: Footprint?
    var firstERT: String?
    var lastERT: String?
    var completeness: Reports.ObservationCompleteness?
    var anomalies: [Reports.AnomalyRow]
    var products: [String: String]

    enum CodingKeys: String, CodingKey {
        case applicable, footprint, completeness, anomalies, products, plan, quality
        case firstERT = "first_ert", lastERT = "last_ert"
    }

    /// The summary's members, then the document's own, at one level.
    func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(applicable, forKey: .applicable)
        try container.encodeIfPresent(plan, forKey: .plan)
        try container.encode(quality, forKey: .quality)
        try container.encodeIfPresent(footprint, forKey: .footprint)
        try container.encodeIfPresent(firstERT, forKey: .firstERT)
        try container.encodeIfPresent(lastERT, forKey: .lastERT)
        try container.encodeIfPresent(completeness, forKey: .completeness)
        try container.encode(anomalies, forKey: .anomalies)
        try container.encode(products, forKey: .products)
    }
}
