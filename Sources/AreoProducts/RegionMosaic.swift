import AreoGeometry
import AreoArchive
import AreoProcessing
import AreoTelemetry
import Foundation

/// A map of a region composed of every observation that covers it (`GET /v1/mosaic`).
public struct RegionRequest: Sendable, Hashable {
    public var region: GeographicBox
    /// Metres per pixel.
    public var scale: Double
    /// `.projected` (one band) or `.composite` (a composite's bands).
    public var kind: ProductRequest.Kind
    public var bands: [Band]
    public var format: ProductFormat

    public init(region: GeographicBox, scale: Double, kind: ProductRequest.Kind, bands: [Band], format: ProductFormat) throws(ProcessingError) {
        guard kind == .projected || kind == .composite else { throw ProcessingError(.invalidRequest, "a region mosaic is projected or composite") }
        guard format != .dat else { throw ProcessingError(.invalidRequest, "a region mosaic is png or jpg; per-observation products carry the data (dat) with labels") }
        // Validates bands and scale exactly as for one observation.
        _ = try ProductRequest(observationID: 0, kind: kind, bands: bands, scale: scale, format: format)
        (self.region, self.scale, self.kind, self.bands, self.format) = (region, scale, kind, bands, format)
    }

    /// The grid: equirectangular around the region's centre (polar stereographic poleward of
    /// ±65°, as for observations), covering the region's edges sampled every 1/32 of a side.
    public var grid: MapGrid {
        let centre = region.centre
        let projection = MapProjection.forObservation(latitude: centre.latitude, longitude: centre.longitude)
        var box = (minX: Double.infinity, minY: Double.infinity, maxX: -Double.infinity, maxY: -Double.infinity)
        for k in 0...32 {
            let f = Double(k) / 32
            let lon = region.west + f * (region.east - region.west), lat = region.south + f * (region.north - region.south)
            for (latitude, longitude) in [(region.south, lon), (region.north, lon), (lat, region.west), (lat, region.east)] {
                let (x, y) = projection.forward(latitude: latitude, longitude: GeographicFootprint.normalized(longitude))
                guard x.isFinite, y.isFinite else { continue }
                box = (min(box.minX, x), min(box.minY, y), max(box.maxX, x), max(box.maxY, y))
            }
        }
        return MapGrid(projection: projection, scale: scale, covering: box)
    }

    public var fileName: String {
        let name = { (v: Double) in String(format: "%.4f", v) }
        return "mosaic-\(name(region.west))_\(name(region.south))_\(name(region.east))_\(name(region.north))-\(kind.rawValue)-\(bands.map(\.name).joined(separator: "_"))-\(ProductRequest.format(scale))m.\(format.rawValue)"
    }
}

extension ProductService {
    /// One observation in a region mosaic, with the inputs it is drawn with.
    public struct MosaicSource: Sendable, Hashable {
        public var observationID: Int
        public var provenance: ProductProvenance
        /// The observation's data stamp (what fragments it has) as the catalogue states it.
        public var dataStamp: String
        public init(observationID: Int, provenance: ProductProvenance, dataStamp: String = "") {
            (self.observationID, self.provenance, self.dataStamp) = (observationID, provenance, dataStamp)
        }
    }

    /// Renders `request` from `sources`, painted in the order given: a later source covers an
    /// earlier one where both have data (the server passes oldest first, so the newest data is on
    /// top). Refuses grids above `maximumPixels`.
    public func regionMosaic(
        _ request: RegionRequest, sources: [MosaicSource], maximumPixels: Int, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> ProductFile {
        let grid = request.grid
        guard grid.width * grid.height <= maximumPixels else {
            throw ProcessingError(.tooLarge, "the mosaic would be \(grid.width) × \(grid.height) pixels, more than the limit of \(maximumPixels); ask for a smaller region or a coarser scale")
        }
        let fragments = FragmentRepository(database: database, logger: logger)
        var planes = [[Float]](repeating: [Float](repeating: .nan, count: grid.width * grid.height), count: request.bands.count)
        var saturated = [Bool](repeating: false, count: grid.width * grid.height)
        var done = 0
        for source in sources {
            try Task.checkCancellation()
            let inputs = try await inputs(observationID: source.observationID, pinned: source.provenance)
            for (b, band) in request.bands.enumerated() where inputs.framelets.contains(where: { $0.header.band == band }) {
                let (mosaic, _) = try await inputs.processor.mosaic(band: band, framelets: inputs.framelets, grid: grid) { reference in
                    try Task.checkCancellation()
                    guard let stored = try await fragments.fragment(
                        observationID: source.observationID, framelet: Int(reference.header.frameletIndex), band: band)
                    else { throw ProcessingError(.fragmentUnreadable, "fragment \(reference.header.frameletIndex)/\(band.name) of \(source.observationID) vanished") }
                    return Array(stored.payload)
                }
                for p in 0..<mosaic.iof.count where mosaic.iof[p].isFinite {
                    planes[b][p] = mosaic.iof[p]
                    saturated[p] = saturated[p] || mosaic.saturated[p]
                }
            }
            done += 1
            progress(done, sources.count)
        }
        if request.kind == .composite { planes = ProductRaster.colourPlanes(planes) }
        let raster = ProductRaster(width: grid.width, height: grid.height, bands: planes, saturated: saturated, grid: grid, unit: "I/F")
        let bytes = try raster.encode(request.format)
        var quality = ObservationProcessor.ProductQuality()
        quality.missingFraction = Double(planes[0].filter { !$0.isFinite }.count) / Double(max(1, planes[0].count))
        let product = try ProductRequest(observationID: 0, kind: request.kind, bands: request.bands, scale: request.scale, format: request.format)
        return ProductFile(
            request: product, provenance: ProductProvenance(kernelID: "", calibrationID: ""), bytes: bytes, label: nil, quality: quality)
    }
}
