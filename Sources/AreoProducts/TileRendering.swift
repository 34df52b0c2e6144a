import AreoArchive
import AreoGeometry
import AreoProcessing
import AreoTelemetry
import Foundation
import Synchronization

/// One map tile of a layer (`GET /v1/tiles/{tms}/{z}/{x}/{y}.{png|jpg}`): a band (`projected`) or
/// a composite's bands, drawn with a fixed stretch so neighbouring tiles match.
public struct TileRequest: Sendable, Hashable {
    public var tile: TileMatrixSet.Tile
    public var kind: ProductRequest.Kind
    public var bands: [Band]
    public var format: ProductFormat
    public var stretch: TileImage.Stretch

    /// - Throws: ``ProcessingError`` for a kind other than projected/composite, a band list no
    ///   composite has, or a `dat` format.
    public init(tile: TileMatrixSet.Tile, bands: [Band], format: ProductFormat, stretch: TileImage.Stretch = .standard) throws(ProcessingError) {
        guard format != .dat else { throw ProcessingError(.invalidRequest, "tiles are png or jpg") }
        let kind: ProductRequest.Kind = bands.count == 1 ? .projected : .composite
        _ = try ProductRequest(observationID: 0, kind: kind, bands: bands, scale: tile.set.cellSize(zoom: tile.zoom), format: format)
        (self.tile, self.kind, self.bands, self.format, self.stretch) = (tile, kind, bands, format, stretch)
    }

    /// The layer's name: a band (`PAN`) or a composite's bands joined (`NIR-PAN-BLU`).
    public var layer: String { bands.map(\.name).joined(separator: "-") }

    /// `tile-mars-eqc-14-8123-4567-NIR-PAN-BLU.png`.
    public var fileName: String {
        "tile-\(tile.set.id)-\(tile.zoom)-\(tile.column)-\(tile.row)-\(layer).\(format.rawValue)"
    }
}

/// The processing inputs of recently drawn observations, kept in memory so that the tiles of one
/// observation do not each parse its geometry kernel, read its calibration and list its framelets
/// again. Keyed by the observation, its inputs and its data stamp: a load that changes any of them
/// makes a new key (the old entry ages out).
public final class InputsMemo: Sendable {
    /// One observation's inputs with every framelet's outline on the ground (what decides which
    /// framelets meet a tile without touching a payload).
    public struct Prepared: Sendable {
        public var inputs: ProductService.Inputs
        public var outlines: [(reference: FrameletReference, outline: [PlanetocentricCoordinates?])]
    }

    private let state = Mutex((order: [String](), entries: [String: Prepared]()))
    public let capacity: Int
    /// Fragments read for recent tiles: neighbouring tiles share framelets (one framelet spans
    /// many tiles), so a browsing client's next tiles are decoded from the packets' user data
    /// without asking the archive for them again.
    public let payloads: FragmentPayloadMemory

    public init(capacity: Int = 64, payloadBytes: Int = 256 << 20) {
        self.capacity = max(1, capacity)
        payloads = FragmentPayloadMemory(budgetBytes: payloadBytes)
    }

    /// The inputs of `source`, made by `load` when not remembered.
    public func prepared(_ source: ProductService.MosaicSource, load: () async throws -> ProductService.Inputs) async throws -> Prepared {
        let key = "\(source.observationID)|\(source.provenance.kernelID)|\(source.provenance.calibrationID)|\(source.dataStamp)"
        if let known = state.withLock({ s -> Prepared? in
            guard let hit = s.entries[key] else { return nil }
            s.order.removeAll { $0 == key }
            s.order.append(key)
            return hit
        }) { return known }
        let inputs = try await load()
        let outlines = inputs.framelets.map { reference in
            let camera = inputs.processor.camera(for: reference)
            return (reference, Footprint.orderedOutline(camera, pointsPerSide: 8).map { camera.view(sample: $0.0, line: $0.1)?.coordinates })
        }
        let prepared = Prepared(inputs: inputs, outlines: outlines)
        state.withLock { s in
            if s.entries.updateValue(prepared, forKey: key) == nil { s.order.append(key) }
            while s.order.count > capacity { s.entries[s.order.removeFirst()] = nil }
        }
        return prepared
    }

    /// Observations remembered (for tests and metrics).
    public var count: Int { state.withLock { $0.entries.count } }
}

extension InputsMemo.Prepared {
    /// The framelets of `band` whose outline meets `grid` (a margin of two pixels).
    public func framelets(of band: Band, meeting grid: MapGrid) -> [FrameletReference] {
        outlines.filter { $0.reference.header.band == band }.filter { _, outline in
            var minC = Double.infinity, maxC = -Double.infinity, minR = Double.infinity, maxR = -Double.infinity
            for case let point? in outline {
                let (x, y) = grid.projection.forward(latitude: point.latitude, longitude: point.longitude)
                guard x.isFinite, y.isFinite else { continue }
                let (c, r) = grid.pixel(x: x, y: y)
                (minC, maxC, minR, maxR) = (min(minC, c), max(maxC, c), min(minR, r), max(maxR, r))
            }
            guard minC.isFinite else { return false }
            // A framelet seen across the projection's seam spans almost the whole map: kept (the
            // mosaic's own clipping decides).
            return maxC >= -2 && minC <= Double(grid.width) + 2 && maxR >= -2 && minR <= Double(grid.height) + 2
        }.map(\.reference)
    }
}

extension ProductService {
    /// Renders the tile `request` from `sources` painted in the order given (oldest first, so the
    /// newest data is on top), decoding only the framelets that meet the tile.
    public func tile(
        _ request: TileRequest, sources: [MosaicSource], memo: InputsMemo, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> ProductFile {
        let grid = request.tile.grid
        let count = grid.width * grid.height
        let planes = ProductRaster.colourPlanes(try await layerPlanes(bands: request.bands, grid: grid, sources: sources, memo: memo, progress: progress))
        let bytes = try TileImage.encode(planes, width: grid.width, height: grid.height, stretch: request.stretch, format: request.format)
        var quality = ObservationProcessor.ProductQuality()
        quality.missingFraction = Double(planes[0].filter { !$0.isFinite }.count) / Double(max(1, count))
        let product = try ProductRequest(observationID: 0, kind: request.kind, bands: request.bands, scale: grid.scale, format: request.format)
        return ProductFile(request: product, provenance: ProductProvenance(kernelID: "", calibrationID: ""), bytes: bytes, label: nil, quality: quality)
    }

    /// I/F of each of `bands` on `grid` (NaN where nothing is seen) from `sources` painted in
    /// order, decoding only the framelets that meet the grid: a tile's pixels, or any map window
    /// on a tile matrix set's grid.
    public func layerPlanes(
        bands: [Band], grid: MapGrid, sources: [MosaicSource], memo: InputsMemo, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> [[Float]] {
        let fragments = FragmentRepository(database: database, logger: logger)
        let count = grid.width * grid.height
        var planes = [[Float]](repeating: [Float](repeating: .nan, count: count), count: bands.count)
        for (done, source) in sources.enumerated() {
            try Task.checkCancellation()
            let prepared = try await memo.prepared(source) { try await inputs(observationID: source.observationID, pinned: source.provenance) }
            let meeting = bands.map { prepared.framelets(of: $0, meeting: grid) }
            // A tile's few framelets are fetched all at once (their round trips overlap each other
            // and the decoding); a larger window fetches each as the mosaic reaches it.
            let wanted = zip(bands, meeting).flatMap { band, references in references.map { (band, Int($0.header.frameletIndex)) } }
            let fetched = wanted.count <= Self.prefetchedFramelets
                ? try await Self.payloads(wanted, of: source, from: fragments, memory: memo.payloads) : [:]
            for (b, band) in bands.enumerated() {
                guard !meeting[b].isEmpty else { continue }
                let (mosaic, _) = try await prepared.inputs.processor.mosaic(band: band, framelets: meeting[b], grid: grid) { reference in
                    try Task.checkCancellation()
                    let index = Int(reference.header.frameletIndex)
                    if let payload = fetched[PayloadKey(band: band, framelet: index)] { return payload }
                    return try await Self.payload(band: band, framelet: index, of: source, from: fragments, memory: memo.payloads)
                }
                for p in 0..<count where mosaic.iof[p].isFinite { planes[b][p] = mosaic.iof[p] }
            }
            progress(done + 1, sources.count)
        }
        return planes
    }

    /// The most framelets fetched ahead for one source of a layer window.
    static let prefetchedFramelets = 32

    struct PayloadKey: Hashable { var band: Band; var framelet: Int }

    /// The payloads of `wanted` framelets, fetched side by side.
    static func payloads(
        _ wanted: [(Band, Int)], of source: MosaicSource, from fragments: FragmentRepository, memory: FragmentPayloadMemory
    ) async throws -> [PayloadKey: [UInt8]] {
        try await withThrowingTaskGroup(of: (PayloadKey, [UInt8]).self) { group in
            for (band, framelet) in wanted {
                group.addTask { (PayloadKey(band: band, framelet: framelet), try await payload(band: band, framelet: framelet, of: source, from: fragments, memory: memory)) }
            }
            var payloads: [PayloadKey: [UInt8]] = [:]
            for try await (key, payload) in group { payloads[key] = payload }
            return payloads
        }
    }

    /// One framelet's payload (the user data of its packets, as received): from the memory of
    /// recently read fragments, else from the archive.
    static func payload(
        band: Band, framelet: Int, of source: MosaicSource, from fragments: FragmentRepository, memory: FragmentPayloadMemory
    ) async throws -> [UInt8] {
        let key = "\(source.observationID)|\(framelet)|\(band.rawValue)|\(source.dataStamp)"
        if let known = memory.payload(key) { return known }
        guard let stored = try await fragments.fragment(observationID: source.observationID, framelet: framelet, band: band)
        else { throw ProcessingError(.fragmentUnreadable, "fragment \(framelet)/\(band.name) of \(source.observationID) vanished") }
        let payload = Array(stored.payload)
        memory.remember(payload, as: key)
        return payload
    }
}

/// The user data of recently read fragments, exactly as stored (compressed), least recently used
/// first out within a byte budget (0: off). Keyed by observation, framelet, band and the
/// observation's data stamp, so a fragment that changes is read again.
public final class FragmentPayloadMemory: Sendable {
    public let budgetBytes: Int
    private let state = Mutex((bytes: 0, tick: UInt64(0), entries: [String: (payload: [UInt8], used: UInt64)]()))

    public init(budgetBytes: Int) { self.budgetBytes = max(0, budgetBytes) }

    /// The payload remembered as `key`, nil when not (or no longer) held.
    public func payload(_ key: String) -> [UInt8]? {
        state.withLock { s in
            guard let hit = s.entries[key] else { return nil }
            s.tick += 1
            s.entries[key] = (hit.payload, s.tick)
            return hit.payload
        }
    }

    /// Remembers `payload` as `key`, forgetting the least recently used beyond the budget (a payload over a quarter of it is not kept).
    public func remember(_ payload: [UInt8], as key: String) {
        guard payload.count <= budgetBytes / 4 else { return }
        state.withLock { s in
            s.tick += 1
            if let old = s.entries.updateValue((payload, s.tick), forKey: key) { s.bytes -= old.payload.count }
            s.bytes += payload.count
            guard s.bytes > budgetBytes else { return }
            // Over the budget: forget the least recently used down to 90 % of it in one sorted pass
            // (not a scan of every entry per payload forgotten).
            for (key, entry) in s.entries.sorted(by: { $0.value.used < $1.value.used }) where s.bytes > budgetBytes / 10 * 9 {
                s.bytes -= entry.payload.count
                s.entries[key] = nil
            }
        }
    }

    /// Bytes held.
    public var bytes: Int { state.withLock { $0.bytes } }
}
