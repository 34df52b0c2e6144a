import AreoArchive
import AreoCodecs
import AreoGeometry
import AreoProcessing
import AreoProducts
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

/// Tiles drawn from raw packets: only the framelets that meet a tile are decoded, and the tile is
/// exactly what projecting every framelet onto the tile's grid gives.
@Suite struct TileRenderingTests {
    /// The finest zoom at which the observation spans at least half a tile (so the tile holds a
    /// good part of it, and not all of its framelets meet the tile).
    static func zoom(for footprint: GeographicFootprint, in set: TileMatrixSet) -> Int {
        let extent = (footprint.north - footprint.south) * MapProjection.radius * .pi / 180
        var zoom = 0
        while zoom < set.maximumZoom, set.cellSize(zoom: zoom + 1) * Double(TileMatrixSet.tileSize) >= extent / 2 { zoom += 1 }
        return zoom
    }

    @Test func aTileDecodesOnlyTheFrameletsMeetingItAndEqualsTheFullProjection() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await SampleArchive.load(into: database)
            let entry = try #require(try await ObservationCatalog(database: database, logger: logger).entry(observationID: 5301))
            let footprint = try #require(entry.footprint)
            let set = TileMatrixSet.marsEquirectangular
            let zoom = Self.zoom(for: footprint, in: set)
            let centre = try #require(GeographicBox(west: footprint.west, south: footprint.south, east: footprint.east, north: footprint.north)).centre
            let tile = try #require(set.tile(containing: centre.latitude, longitude: centre.longitude, zoom: zoom))
            let request = try TileRequest(tile: tile, bands: [.nir, .pan, .blu], format: .png)
            let service = ProductService(database: database, logger: logger)
            let source = ProductService.MosaicSource(
                observationID: 5301, provenance: ProductProvenance(kernelID: try #require(entry.kernelID), calibrationID: try #require(entry.calibrationID)),
                dataStamp: entry.dataStamp)
            let memo = InputsMemo(capacity: 4)
            let drawn = try await service.tile(request, sources: [source], memo: memo)
            #expect(memo.count == 1)

            // Fewer framelets meet the tile than the observation has, yet some do.
            let prepared = try await memo.prepared(source) { Issue.record("the inputs were not remembered"); throw CancellationError() }
            let all = prepared.inputs.framelets.filter { $0.header.band == .pan }
            let meeting = prepared.framelets(of: .pan, meeting: tile.grid)
            #expect(!meeting.isEmpty && meeting.count < all.count, "\(meeting.count) of \(all.count) PAN framelets meet tile \(tile.path)")

            // The reference: every framelet of each band projected onto the tile's grid.
            let fragments = FragmentRepository(database: database, logger: logger)
            var planes: [[Float]] = []
            for band in request.bands {
                let (mosaic, _) = try await prepared.inputs.processor.mosaic(band: band, framelets: prepared.inputs.framelets, grid: tile.grid) { reference in
                    Array(try #require(try await fragments.fragment(observationID: 5301, framelet: Int(reference.header.frameletIndex), band: band)).payload)
                }
                planes.append(mosaic.iof)
            }
            let reference = try TileImage.encode(planes, width: 256, height: 256, stretch: .standard, format: .png)
            #expect(drawn.bytes == reference, "the tile equals the projection of every framelet")

            // It decodes (libpng) to 256 × 256 RGBA with data and with transparency around it.
            let decoded = try PNG.decode(drawn.bytes, as: .rgba8)
            #expect(decoded.width == 256 && decoded.height == 256)
            let alpha = stride(from: 3, to: decoded.pixels.count, by: 4).map { decoded.pixels[$0] }
            let opaque = alpha.filter { $0 == 255 }.count
            #expect(opaque > 1000, "\(opaque) pixels with data")
            #expect(alpha.allSatisfy { $0 == 0 || $0 == 255 })

            // A tile far from every observation has nothing to draw from.
            let far = try #require(set.tile(containing: -centre.latitude, longitude: centre.longitude + 90, zoom: zoom))
            let empty = try await service.tile(try TileRequest(tile: far, bands: [.pan], format: .png), sources: [source], memo: memo)
            let emptyPixels = try PNG.decode(empty.bytes, as: .rgba8).pixels
            #expect(stride(from: 3, to: emptyPixels.count, by: 4).allSatisfy { emptyPixels[$0] == 0 })
        }
    }
}

@Suite struct FragmentPayloadMemoryTests {
    @Test func itKeepsTheMostRecentlyUsedWithinItsBudget() {
        let memory = FragmentPayloadMemory(budgetBytes: 1_000)
        memory.remember([UInt8](repeating: 1, count: 200), as: "a")
        memory.remember([UInt8](repeating: 2, count: 200), as: "b")
        memory.remember([UInt8](repeating: 3, count: 200), as: "c")
        #expect(memory.payload("a")?.first == 1)  // a is now the most recently used
        memory.remember([UInt8](repeating: 4, count: 200), as: "d")
        memory.remember([UInt8](repeating: 5, count: 200), as: "e")
        memory.remember([UInt8](repeating: 6, count: 200), as: "f")
        #expect(memory.bytes <= 1_000)
        #expect(memory.payload("b") == nil, "the least recently used went first")
        #expect(memory.payload("a")?.count == 200 && memory.payload("f")?.first == 6)
        memory.remember([UInt8](repeating: 7, count: 300), as: "too-large")
        #expect(memory.payload("too-large") == nil, "a payload over a quarter of the budget is not kept")
        memory.remember([UInt8](repeating: 8, count: 200), as: "a")
        #expect(memory.payload("a")?.first == 8 && memory.bytes <= 1_000, "replacing counts the bytes once")
        let off = FragmentPayloadMemory(budgetBytes: 0)
        off.remember([1, 2, 3], as: "x")
        #expect(off.payload("x") == nil && off.bytes == 0)
    }
}
