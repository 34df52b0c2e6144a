import AreoArchive
import AreoGeometry
import AreoProcessing
import AreoProducts
import AreoTelemetry
import CoreMetrics
import Foundation
import Synchronization

/// Map tiles: drawn from every observation the caller may see that covers the tile, in the same
/// order and with the same inputs as region mosaics (oldest first, each with the kernel and
/// calibration set that apply to it now), rendered through the scheduler (coalesced,
/// cancellable), cached with every source's provenance in the key and regenerated after loads.
extension ProductDelivery {
    /// The observations `request` is drawn from for a caller (`publicOnly`), oldest first: those
    /// covering the tile with processing inputs, complete fragments and one of its bands, and
    /// not smaller than one of its pixels. Remembered for one catalogue generation.
    public func tileSources(_ request: TileRequest, publicOnly: Bool) async throws -> [ObservationCatalog.Entry] {
        let generation = try await synchronize()
        let memoKey = "\(request.tile.path)|\(request.layer)|\(publicOnly)"
        if let known = tileSourceMemo.withLock({ $0.generation == generation ? $0.sources[memoKey] : nil }) { return known }
        let tile = request.tile
        var query = ObservationCatalog.Query()
        query.region = tile.geographicBox ?? GeographicBox(west: 0, south: -90, east: 360, north: 90)
        query.publicOnly = publicOnly
        query.limit = 500
        let cell = tile.set.cellSize(zoom: tile.zoom)
        let names = Set(request.bands.map(\.name))
        let sources = try await ObservationCatalog(database: database, logger: logger).search(query).entries.filter { entry in
            guard entry.kernelID != nil, entry.calibrationID != nil, !entry.dataStamp.hasPrefix("f0."),
                  entry.bands.contains(where: names.contains), let footprint = entry.footprint else { return false }
            return Self.extentMetres(footprint) >= cell
        }
        tileSourceMemo.withLock { memo in
            if memo.generation != generation || memo.sources.count > 50_000 { memo = (generation, [:]) }
            memo.sources[memoKey] = sources
        }
        return sources
    }

    /// The larger side of a footprint's box on the ground, metres.
    static func extentMetres(_ footprint: GeographicFootprint) -> Double {
        let metresPerDegree = MapProjection.radius * .pi / 180
        let north = (footprint.north - footprint.south) * metresPerDegree
        let latitude = max(abs(footprint.north), abs(footprint.south)) > 89 ? 0 : (footprint.north + footprint.south) / 2
        let east = (footprint.pole != 0 ? 360 : footprint.east - footprint.west) * metresPerDegree * cos(latitude * .pi / 180)
        return max(north, east)
    }

    /// The cache key of a tile drawn from `sources`.
    static func tileKey(_ request: TileRequest, sources: [ObservationCatalog.Entry]) -> String {
        let identity = ["tile-v1", request.fileName, request.stretch.text, areoVersion] + sources.map(sourceStamp)
        return String(ProductCache.sha256(Data(identity.joined(separator: "|").utf8)).prefix(40))
    }

    /// What of a source a tile depends on: its inputs and its data.
    static func sourceStamp(_ entry: ObservationCatalog.Entry) -> String {
        "\(entry.observationID):\(entry.kernelID ?? ""):\(entry.calibrationID ?? ""):\(entry.dataStamp):\(entry.inputsDigest)"
    }

    /// Serves one tile: the empty tile at once when nothing covers it, else the cached tile made
    /// from today's sources, else a render.
    public func tile(_ request: TileRequest, publicOnly: Bool, priority: RenderPriority = .interactive) async throws -> Served {
        let sources = try await tileSources(request, publicOnly: publicOnly)
        guard !sources.isEmpty else {
            metrics.emptyTiles.increment()
            return try emptyTile(request)
        }
        let key = Self.tileKey(request, sources: sources)
        if let hit = await cache.lookup(key) {
            metrics.cacheHits.increment()
            return Served(entry: hit.entry, path: hit.path, bytes: nil, fromCache: true, body: hit.body)
        }
        metrics.cacheMisses.increment()
        let result = try await scheduler.render(
            key: key, product: request.fileName, priority: priority, isPublic: sources.allSatisfy { $0.isPublic() },
            work: tileWork(request, sources: sources, key: key, publicOnly: publicOnly))
        guard let product = result.products[key] else { throw DeliveryError.unavailable("the tile render made nothing") }
        return Served(entry: product.entry, path: product.path, bytes: product.bytes, fromCache: false)
    }

    /// The empty tile of the request's layout (made once, kept in memory).
    func emptyTile(_ request: TileRequest) throws -> Served {
        let layout = "\(request.bands.count == 1 ? 1 : 3).\(request.format.rawValue)"
        let bytes: [UInt8]
        if let known = emptyTiles.withLock({ $0[layout] }) {
            bytes = known
        } else {
            bytes = try TileImage.empty(bands: request.bands.count, size: TileMatrixSet.tileSize, format: request.format)
            emptyTiles.withLock { $0[layout] = bytes }
        }
        let sha = ProductCache.sha256(bytes)
        let entry = ProductCache.Entry(
            key: "empty-" + sha.prefix(32), mediaType: request.format == .png ? "image/png" : "image/jpeg", size: bytes.count, sha256: sha,
            observationID: nil, attributes: ["file": request.fileName, "observations": ""])
        return Served(entry: entry, path: nil, bytes: bytes, fromCache: true)
    }

    /// The render of a tile from exactly `sources`: stores it with what regeneration needs.
    func tileWork(_ request: TileRequest, sources: [ObservationCatalog.Entry], key: String, publicOnly: Bool) -> RenderScheduler.Work {
        let (database, logger, cache, memo, policy) = (self.database, self.logger, self.cache, self.inputsMemo, configuration.corrections)
        let mosaicSources = sources.compactMap { entry -> ProductService.MosaicSource? in
            guard let kernelID = entry.kernelID, let calibrationID = entry.calibrationID else { return nil }
            return .init(observationID: entry.observationID, provenance: ProductProvenance(kernelID: kernelID, calibrationID: calibrationID, shapeModels: entry.shapeModelIDs),
                         dataStamp: entry.dataStamp + "|" + entry.inputsDigest)
        }
        return { progress in
            if let hit = await cache.lookup(key) { return RenderResult(products: [key: .init(entry: hit.entry, path: hit.path, bytes: nil)], rendered: false) }
            let file = try await ProductService(database: database, logger: logger, corrections: policy).tile(request, sources: mosaicSources, memo: memo) {
                progress.update(done: $0, total: $1)
            }
            var attributes = [
                "kind": "tile", "file": request.fileName, "tms": request.tile.set.id, "z": String(request.tile.zoom),
                "x": String(request.tile.column), "y": String(request.tile.row), "bands": request.bands.map(\.name).joined(separator: ","),
                "format": request.format.rawValue, "stretch": request.stretch.text, "audience": publicOnly ? "public" : "team",
                "observations": sources.map { String($0.observationID) }.joined(separator: ","),
                "sources": sources.map(Self.sourceStamp).joined(separator: " "), "software": areoVersion,
                // The inputs drawn with, as for products (the distinct ones, in source order).
                "kernel": Self.distinct(mosaicSources.map(\.provenance.kernelID)), "calibration": Self.distinct(mosaicSources.map(\.provenance.calibrationID)),
            ]
            if let quality = try? JSONEncoder().encode(file.quality) { attributes["quality"] = String(decoding: quality, as: UTF8.self) }
            return try await Self.store(file, key: key, in: cache, attributes: attributes)
        }
    }

    /// Queues the renders of `requests` (a browsing client's viewport, its ring and the next
    /// zoom) for `owner`, superseding what `owner` asked for before: its earlier renders not asked
    /// for again (and wanted by nobody else) are cancelled, those asked for again go on. Empty and
    /// cached tiles are skipped. Returns the jobs queued and the ids of those cancelled.
    public func prefetchTiles(
        _ requests: [TileRequest], owner: String, priority: RenderPriority, publicOnly: Bool
    ) async throws -> (queued: [RenderScheduler.JobStatus], cancelled: [String]) {
        var jobs: [RenderScheduler.JobStatus] = []
        var keys: Set<String> = []
        for request in requests {
            let sources = try await tileSources(request, publicOnly: publicOnly)
            guard !sources.isEmpty else { continue }
            let key = Self.tileKey(request, sources: sources)
            guard cache.peek(key) == nil else { continue }
            keys.insert(key)
            jobs.append(scheduler.submit(
                key: key, product: request.fileName, priority: priority, owner: owner, isPublic: sources.allSatisfy { $0.isPublic() },
                work: tileWork(request, sources: sources, key: key, publicOnly: publicOnly)))
        }
        return (jobs, scheduler.release(owner: owner, keeping: keys))
    }

    static func distinct(_ names: [String]) -> String {
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }.joined(separator: ",")
    }

    /// The tile a cache entry was made for, nil when the entry is not a tile.
    static func tileRequest(from entry: ProductCache.Entry) -> (TileRequest, publicOnly: Bool)? {
        let a = entry.attributes
        guard a["kind"] == "tile", let set = a["tms"].flatMap(TileMatrixSet.named), let z = a["z"].flatMap(Int.init),
              let x = a["x"].flatMap(Int.init), let y = a["y"].flatMap(Int.init), let tile = set.tile(zoom: z, column: x, row: y),
              let bands = a["bands"]?.split(separator: ",").map({ Band(name: String($0)) }), bands.allSatisfy({ $0 != nil }),
              let format = a["format"].flatMap(ProductFormat.init(rawValue:)) else { return nil }
        let parts = (a["stretch"] ?? "").split(separator: ",").compactMap { Double($0) }
        let stretch = parts.count == 2 ? TileImage.Stretch(low: parts[0], high: parts[1]) ?? .standard : .standard
        guard let request = try? TileRequest(tile: tile, bands: bands.compactMap { $0 }, format: format, stretch: stretch) else { return nil }
        return (request, a["audience"] != "team")
    }

    /// After a load: removes the tiles one of whose sources changed its inputs or data, and
    /// re-renders the most recently used of them. Returns how many were re-queued.
    func regenerateTiles(_ entries: [(rank: Int, entry: ProductCache.Entry)], catalog: ObservationCatalog) async throws -> Int {
        var requeued = 0
        var current: [Int: ObservationCatalog.Entry?] = [:]
        for (rank, cached) in entries {
            guard let (request, publicOnly) = Self.tileRequest(from: cached) else { continue }
            var stale = false
            for stamp in (cached.attributes["sources"] ?? "").split(separator: " ") {
                guard let id = stamp.split(separator: ":").first.flatMap({ Int($0) }) else { stale = true; break }
                if current[id] == nil { current[id] = .some(try await catalog.entry(observationID: id)) }
                guard let now = current[id] ?? nil, Self.sourceStamp(now) == stamp else { stale = true; break }
            }
            guard stale else { continue }
            cache.remove(cached.key)
            guard rank < configuration.regenerateRecent else { continue }
            let sources = try await tileSources(request, publicOnly: publicOnly)
            guard !sources.isEmpty else { continue }
            let key = Self.tileKey(request, sources: sources)
            scheduler.submit(key: key, product: request.fileName, priority: .regeneration, owner: "regeneration",
                             isPublic: sources.allSatisfy { $0.isPublic() }, work: tileWork(request, sources: sources, key: key, publicOnly: publicOnly))
            metrics.regenerations.increment()
            requeued += 1
        }
        return requeued
    }
}
