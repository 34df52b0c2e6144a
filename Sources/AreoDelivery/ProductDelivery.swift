import AreoGeometry
import AreoProcessing
import AreoProducts
import AreoArchive
import AreoTelemetry
import CoreMetrics
import Foundation
import Logging
import NIOCore
import Synchronization

/// Serves products: from the cache when the entry made with today's inputs is there, otherwise
/// through the scheduler (one render per distinct product), then queues what is likely wanted
/// next. Keeps a memo of the observation catalogue valid for one catalogue generation; the
/// generation is read on every request, so once a load has returned no request is answered
/// with a product made from older inputs.
public final class ProductDelivery: Sendable {
    public let cache: ProductCache
    public let scheduler: RenderScheduler
    public let metrics: DeliveryMetrics
    public let configuration: Configuration
    let database: Database
    let logger: Logger
    let memo = Mutex((generation: Int64(-1), entries: [Int: ObservationCatalog.Entry](), neighboursQueued: Set<String>()))
    /// The catalogue generation the cache was last regenerated for.
    let regenerated = Mutex(Int64(-1))
    /// The sources of tiles asked for in the current catalogue generation.
    let tileSourceMemo = Mutex((generation: Int64(-1), sources: [String: [ObservationCatalog.Entry]]()))
    /// The empty tile of each layout (band count and format), encoded once.
    let emptyTiles = Mutex([String: [UInt8]]())
    /// Processing inputs of the observations tiles were recently drawn from.
    public let inputsMemo: InputsMemo

    public struct Configuration: Sendable {
        /// Neighbours queued after an observation's product is served.
        public var neighbours: Int
        /// Most recently used stale entries re-rendered after a load.
        public var regenerateRecent: Int
        /// Largest region mosaic, pixels.
        public var maximumMosaicPixels: Int
        /// Memory for the fragments read for recent tiles; 0: off.
        public var fragmentMemoryBytes: Int
        /// When an observation's estimated corrections are anomalies.
        public var corrections: CorrectionPolicy

        public init(
            neighbours: Int = 4, regenerateRecent: Int = 32, maximumMosaicPixels: Int = 25_000_000, fragmentMemoryBytes: Int = 256 << 20,
            corrections: CorrectionPolicy = .init()
        ) {
            (self.neighbours, self.regenerateRecent, self.maximumMosaicPixels) = (neighbours, regenerateRecent, maximumMosaicPixels)
            (self.fragmentMemoryBytes, self.corrections) = (fragmentMemoryBytes, corrections)
        }
    }

    public init(database: Database, cache: ProductCache, scheduler: RenderScheduler, metrics: DeliveryMetrics,
                configuration: Configuration = .init(), logger: Logger) async {
        self.database = database
        self.cache = cache
        self.scheduler = scheduler
        self.metrics = metrics
        self.configuration = configuration
        self.logger = logger
        inputsMemo = InputsMemo(payloadBytes: configuration.fragmentMemoryBytes)
        cache.observeEvictions { [metrics] bytes in
            metrics.cacheEvictions.increment()
            metrics.cacheEvictedBytes.increment(by: bytes)
        }
    }

    /// What a served product is.
    public struct Served: Sendable {
        public var entry: ProductCache.Entry
        public var path: String?
        public var bytes: [UInt8]?
        /// Whether it came from the cache without a render.
        public var fromCache: Bool
        /// The bytes from the cache's memory tier, when there.
        public var body: ByteBuffer? = nil
    }

    // MARK: Catalogue

    /// Reads the catalogue generation; when it moved, forgets the memo (one query, on every
    /// request). Regenerating stale products is left to ``regenerateIfChanged()``, off the
    /// request path. Returns the generation.
    @discardableResult
    public func synchronize() async throws -> Int64 {
        let generation = try await ObservationCatalog(database: database, logger: logger).generation()
        memo.withLock { m in
            if m.generation != generation { m = (generation, [:], []) }
        }
        return generation
    }

    /// When the catalogue generation moved since the last time (not at the first call, on
    /// start-up), regenerates what the change made stale. Called after loads through the API and
    /// by the ``CatalogueWatcher``.
    public func regenerateIfChanged() async throws {
        let generation = try await synchronize()
        let previous = regenerated.withLock { last in
            defer { last = max(last, generation) }
            return last
        }
        if previous >= 0, previous < generation { try await regenerate() }
    }

    /// The catalogue entry of `observationID` as of now (nil when unknown).
    public func entry(observationID: Int) async throws -> ObservationCatalog.Entry? {
        try await synchronize()
        if let known = memo.withLock({ $0.entries[observationID] }) { return known }
        guard let entry = try await ObservationCatalog(database: database, logger: logger).entry(observationID: observationID) else { return nil }
        memo.withLock { $0.entries[observationID] = entry }
        return entry
    }

    /// Whether the public may learn of a cache entry: every observation it is made from is
    /// public now (``Embargo``). An entry that names none is not (fail closed).
    public func isPublic(_ cached: ProductCache.Entry) async -> Bool {
        var ids = cached.observationID.map { [$0] } ?? []
        ids += (cached.attributes["observations"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).compactMap { Int($0) }
        guard !ids.isEmpty else { return false }
        for id in Set(ids) {
            guard let entry = try? await entry(observationID: id), entry.isPublic() else { return false }
        }
        return true
    }

    /// Observations matching `query` (one page).
    public func search(_ query: ObservationCatalog.Query) async throws -> [ObservationCatalog.Entry] {
        try await ObservationCatalog(database: database, logger: logger).search(query).entries
    }

    // MARK: Keys

    /// The cache key of `request` made from `entry`'s current inputs, for `format` (the `xml`
    /// label of a `dat` has a key of its own).
    public static func key(_ request: ProductRequest, entry: ObservationCatalog.Entry, served format: String) -> String {
        let identity = [
            "product-v1", String(request.observationID), request.kind.rawValue, request.bands.map(\.name).joined(separator: ","),
            String(request.scale), request.format.rawValue, format, entry.kernelID ?? "", entry.calibrationID ?? "", areoVersion, entry.dataStamp,
            entry.inputsDigest,
        ].joined(separator: "|")
        return String(ProductCache.sha256(Data(identity.utf8)).prefix(40))
    }

    // MARK: Products of one observation

    /// `request` from the cache when it is there, made with the inputs of `entry` (the
    /// observation's catalogue entry as of this request); nil otherwise.
    public func cached(_ request: ProductRequest, entry: ObservationCatalog.Entry, label: Bool = false) async throws -> Served? {
        guard entry.kernelID != nil, entry.calibrationID != nil else { return nil }
        let key = Self.key(request, entry: entry, served: label ? "xml" : request.format.rawValue)
        guard let hit = cache.peek(key) != nil ? await cache.lookup(key) : nil else { return nil }
        metrics.cacheHits.increment()
        return Served(entry: hit.entry, path: hit.path, bytes: nil, fromCache: true, body: hit.body)
    }

    /// Serves `request` (format `xml` = the label of the `dat`) made with the inputs of `entry`,
    /// the observation's catalogue entry as of this request.
    /// - Throws: ``DeliveryError`` when the observation's inputs are missing.
    public func product(
        _ request: ProductRequest, entry: ObservationCatalog.Entry, label: Bool = false, priority: RenderPriority = .interactive
    ) async throws -> Served {
        guard let kernelID = entry.kernelID, let calibrationID = entry.calibrationID else {
            throw DeliveryError.unavailable(entry.kernelID == nil
                ? "no geometry kernel covers observation \(request.observationID) yet"
                : "no calibration set applies to observation \(request.observationID) yet")
        }
        let servedFormat = label ? "xml" : request.format.rawValue
        let key = Self.key(request, entry: entry, served: servedFormat)
        if let hit = await cache.lookup(key) {
            metrics.cacheHits.increment()
            return Served(entry: hit.entry, path: hit.path, bytes: nil, fromCache: true, body: hit.body)
        }
        metrics.cacheMisses.increment()
        let renderKey = Self.key(request, entry: entry, served: request.format.rawValue)
        let result = try await scheduler.render(
            key: renderKey, product: request.fileName, priority: priority, isPublic: entry.isPublic(),
            work: renderWork(request, entry: entry, provenance: ProductProvenance(kernelID: kernelID, calibrationID: calibrationID, shapeModels: entry.shapeModelIDs)))
        guard let product = result.products[key] else { throw DeliveryError.unavailable("the render did not make \(servedFormat)") }
        return Served(entry: product.entry, path: product.path, bytes: product.bytes, fromCache: false)
    }

    /// The render of `request` with exactly the inputs of `entry`: stores every file it makes.
    func renderWork(_ request: ProductRequest, entry: ObservationCatalog.Entry, provenance: ProductProvenance) -> RenderScheduler.Work {
        let (database, logger, cache, policy) = (self.database, self.logger, self.cache, configuration.corrections)
        return { progress in
            let key = Self.key(request, entry: entry, served: request.format.rawValue)
            let labelKey = Self.key(request, entry: entry, served: "xml")
            // Another render may have finished this product between the lookup and now.
            let labelCached = request.format == .dat ? cache.peek(labelKey) != nil : true
            if labelCached, let hit = await cache.lookup(key) {
                var products = [key: RenderResult.Product(entry: hit.entry, path: hit.path, bytes: nil)]
                if let label = await cache.lookup(labelKey) { products[labelKey] = .init(entry: label.entry, path: label.path, bytes: nil) }
                return RenderResult(products: products, rendered: false)
            }
            let file = try await ProductService(database: database, logger: logger, corrections: policy).product(request, pinned: provenance) { done, total in
                progress.update(done: done, total: total)
            }
            var attributes = [
                "observation": String(request.observationID), "kind": request.kind.rawValue, "bands": request.bands.map(\.name).joined(separator: ","),
                "scale": String(request.scale), "format": request.format.rawValue, "kernel": provenance.kernelID,
                "calibration": provenance.calibrationID, "software": provenance.softwareVersion, "data": entry.dataStamp,
                "file": request.fileName, "inputs": entry.inputsDigest, "shape_models": file.provenance.shapeModelList,
            ]
            if let offset = file.provenance.mechanismOffsetText { attributes["mechanism_offset"] = offset }
            if let epsilon = file.provenance.straylightEpsilonText { attributes["straylight_epsilon"] = epsilon }
            if let quality = try? JSONEncoder().encode(file.quality) { attributes["quality"] = String(decoding: quality, as: UTF8.self) }
            var outputs = [(key, file.mediaType, file.bytes, attributes)]
            if let label = file.label {
                var labelAttributes = attributes
                labelAttributes["file"] = (request.fileName as NSString).deletingPathExtension + ".xml"
                outputs.append((labelKey, "application/xml", Array(label.utf8), labelAttributes))
            }
            var products: [String: RenderResult.Product] = [:]
            for (key, mediaType, bytes, attributes) in outputs {
                let cacheEntry = ProductCache.Entry(
                    key: key, mediaType: mediaType, size: bytes.count, sha256: ProductCache.sha256(bytes),
                    observationID: request.observationID, attributes: attributes)
                let stored = try await cache.store(bytes, as: cacheEntry)
                products[key] = .init(entry: cacheEntry, path: stored?.path, bytes: stored == nil ? bytes : nil)
            }
            return RenderResult(products: products, rendered: true)
        }
    }

    // MARK: Prefetch

    /// Queues `request` for each observation in `observationIDs` for `owner` (a prefetch
    /// session, "neighbours"); those already cached are skipped. Returns the jobs queued.
    public func prefetch(_ template: ProductRequest, observations observationIDs: [Int], owner: String,
                         priority: RenderPriority, publicOnly: Bool) async throws -> [RenderScheduler.JobStatus] {
        var jobs: [RenderScheduler.JobStatus] = []
        for id in observationIDs {
            guard let entry = try await entry(observationID: id), !publicOnly || entry.isPublic(),
                  let kernelID = entry.kernelID, let calibrationID = entry.calibrationID else { continue }
            var request = template
            request.observationID = id
            if request.bands.count == 1, !entry.bands.contains(request.bands[0].name), let first = entry.bands.first.flatMap({ Band(name: $0) }) {
                request.bands = [first]
            }
            let key = Self.key(request, entry: entry, served: request.format.rawValue)
            guard cache.peek(key) == nil else { continue }
            jobs.append(scheduler.submit(
                key: key, product: request.fileName, priority: priority, owner: owner, isPublic: entry.isPublic(),
                work: renderWork(request, entry: entry, provenance: ProductProvenance(kernelID: kernelID, calibrationID: calibrationID, shapeModels: entry.shapeModelIDs))))
        }
        return jobs
    }

    /// After `request` was served from `entry`'s observation: queue the same product of its
    /// spatial neighbours, once per product and catalogue generation (a product served again
    /// and again from the cache does not search for its neighbours every time).
    public func queueNeighbours(of request: ProductRequest, entry: ObservationCatalog.Entry, publicOnly: Bool) async throws {
        let marker = "\(request.fileName)|\(publicOnly)"
        guard configuration.neighbours > 0, memo.withLock({ $0.neighboursQueued.insert(marker).inserted }) else { return }
        let neighbours = try await ObservationCatalog(database: database, logger: logger)
            .neighbours(of: entry, limit: configuration.neighbours, publicOnly: publicOnly)
        _ = try await prefetch(request, observations: neighbours.map(\.observationID), owner: "neighbours", priority: .neighbour, publicOnly: publicOnly)
    }

    // MARK: Regeneration

    /// Removes every cached product whose observation's inputs or data are no longer current,
    /// and re-renders the most recently used of them at low priority.
    public func regenerate() async throws {
        let entries = cache.entriesByRecency()
        var fresh: [Int: ObservationCatalog.Entry?] = [:]
        let catalog = ObservationCatalog(database: database, logger: logger)
        var requeued = 0
        requeued += try await regenerateTiles(entries.enumerated().map { ($0.offset, $0.element) }, catalog: catalog)
        for (rank, cached) in entries.enumerated() {
            guard let id = cached.observationID, let request = Self.request(from: cached) else { continue }
            if fresh[id] == nil { fresh[id] = .some(try await catalog.entry(observationID: id)) }
            guard let current = fresh[id] ?? nil else { continue }
            let servedFormat = cached.mediaType == "application/xml" ? "xml" : request.format.rawValue
            guard Self.key(request, entry: current, served: servedFormat) != cached.key else { continue }
            cache.remove(cached.key)
            guard rank < configuration.regenerateRecent, servedFormat != "xml",
                  let kernelID = current.kernelID, let calibrationID = current.calibrationID else { continue }
            scheduler.submit(
                key: Self.key(request, entry: current, served: request.format.rawValue), product: request.fileName, priority: .regeneration,
                owner: "regeneration", isPublic: current.isPublic(),
                work: renderWork(request, entry: current, provenance: ProductProvenance(kernelID: kernelID, calibrationID: calibrationID, shapeModels: current.shapeModelIDs)))
            metrics.regenerations.increment()
            requeued += 1
        }
        if requeued > 0 { logger.info("regeneration queued", metadata: ["products": "\(requeued)"]) }
    }

    /// The request a cache entry was made for.
    static func request(from entry: ProductCache.Entry) -> ProductRequest? {
        let a = entry.attributes
        guard let id = a["observation"].flatMap(Int.init), let kind = a["kind"].flatMap(ProductRequest.Kind.init(rawValue:)),
              let bands = a["bands"]?.split(separator: ",").compactMap({ Band(name: String($0)) }),
              let scale = a["scale"].flatMap(Double.init), let format = a["format"].flatMap(ProductFormat.init(rawValue:)) else { return nil }
        return try? ProductRequest(observationID: id, kind: kind, bands: bands, scale: kind == .raw || kind == .calibrated ? 1 : scale, format: format)
    }

    // MARK: Region mosaics

    /// A mosaic of every observation (visible to the caller) that covers `request.region`,
    /// oldest first so the newest data is on top.
    public func mosaic(_ request: RegionRequest, publicOnly: Bool, priority: RenderPriority = .interactive) async throws -> Served {
        try await synchronize()
        let grid = request.grid
        guard grid.width * grid.height <= configuration.maximumMosaicPixels else {
            throw DeliveryError.tooLarge("the mosaic would be \(grid.width) × \(grid.height) pixels, more than the limit of \(configuration.maximumMosaicPixels); ask for a smaller region or a coarser scale")
        }
        var query = ObservationCatalog.Query()
        query.region = request.region
        query.publicOnly = publicOnly
        query.limit = 500
        let covering = try await ObservationCatalog(database: database, logger: logger).search(query).entries
            .filter { $0.kernelID != nil && $0.calibrationID != nil && $0.dataStamp.hasPrefix("f0.") == false && $0.bands.contains { request.bands.map(\.name).contains($0) } }
        guard !covering.isEmpty else { throw DeliveryError.notFound("no observation covers that region with those bands") }
        let sources = covering.map { ProductService.MosaicSource(observationID: $0.observationID, provenance: $0.provenance!, dataStamp: $0.dataStamp + "|" + $0.inputsDigest) }
        let identity = ["mosaic-v1", request.fileName, areoVersion] + covering.map { "\($0.observationID):\($0.kernelID!):\($0.calibrationID!):\($0.dataStamp):\($0.inputsDigest)" }
        let key = String(ProductCache.sha256(Data(identity.joined(separator: "|").utf8)).prefix(40))
        if let hit = await cache.lookup(key) {
            metrics.cacheHits.increment()
            return Served(entry: hit.entry, path: hit.path, bytes: nil, fromCache: true)
        }
        metrics.cacheMisses.increment()
        let (database, logger, cache, limit, policy) = (self.database, self.logger, self.cache, configuration.maximumMosaicPixels, configuration.corrections)
        let everyonePublic = covering.allSatisfy { $0.isPublic() }
        let result = try await scheduler.render(key: key, product: request.fileName, priority: priority, isPublic: everyonePublic) { progress in
            if let hit = await cache.lookup(key) { return RenderResult(products: [key: .init(entry: hit.entry, path: hit.path, bytes: nil)], rendered: false) }
            let file = try await ProductService(database: database, logger: logger, corrections: policy).regionMosaic(request, sources: sources, maximumPixels: limit) {
                progress.update(done: $0, total: $1)
            }
            return try await Self.store(file, key: key, in: cache,
                                        attributes: ["file": request.fileName, "observations": sources.map { String($0.observationID) }.joined(separator: ",")])
        }
        guard let product = result.products[key] else { throw DeliveryError.unavailable("the mosaic render made nothing") }
        return Served(entry: product.entry, path: product.path, bytes: product.bytes, fromCache: false)
    }
}

extension ProductDelivery {
    /// Stores one rendered file of several observations (a mosaic, a tile) under `key`: the result
    /// of its render, with the bytes themselves when the cache could not keep them.
    static func store(_ file: ProductService.ProductFile, key: String, in cache: ProductCache, attributes: [String: String]) async throws -> RenderResult {
        let entry = ProductCache.Entry(
            key: key, mediaType: file.mediaType, size: file.bytes.count, sha256: ProductCache.sha256(file.bytes), observationID: nil, attributes: attributes)
        let stored = try await cache.store(file.bytes, as: entry)
        return RenderResult(products: [key: .init(entry: entry, path: stored?.path, bytes: stored == nil ? file.bytes : nil)], rendered: true)
    }
}

/// Why a product cannot be delivered (the server maps these to HTTP statuses).
public enum DeliveryError: Error, CustomStringConvertible, Sendable {
    case notFound(String)
    case unavailable(String)
    case tooLarge(String)

    public var description: String {
        switch self {
        case .notFound(let m), .unavailable(let m), .tooLarge(let m): m
        }
    }

    /// The machine-readable code of the problem document.
    public var code: String {
        switch self {
        case .notFound: "not_found"
        case .unavailable: "not_yet_processable"
        case .tooLarge: "too_large"
        }
    }
}
