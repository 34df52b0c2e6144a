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

    public init(capacity: Int = 64) { self.capacity = max(1, capacity) }

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
        var planes = try await layerPlanes(bands: request.bands, grid: grid, sources: sources, memo: memo, progress: progress)
        if request.bands.count == 2 {
            // PAN-BLU: the synthetic middle channel is the mean of the two.
            planes = [planes[0], zip(planes[0], planes[1]).map { ($0 + $1) / 2 }, planes[1]]
        }
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
            for (b, band) in bands.enumerated() {
                let meeting = prepared.framelets(of: band, meeting: grid)
                guard !meeting.isEmpty else { continue }
                let (mosaic, _) = try await prepared.inputs.processor.mosaic(band: band, framelets: meeting, grid: grid) { reference in
                    try Task.checkCancellation()
                    guard let stored = try await fragments.fragment(
                        observationID: source.observationID, framelet: Int(reference.header.frameletIndex), band: band)
                    else { throw ProcessingError(.fragmentUnreadable, "fragment \(reference.header.frameletIndex)/\(band.name) of \(source.observationID) vanished") }
                    return Array(stored.payload)
                }
                for p in 0..<count where mosaic.iof[p].isFinite { planes[b][p] = mosaic.iof[p] }
            }
            progress(done + 1, sources.count)
        }
        return planes
    }
}
