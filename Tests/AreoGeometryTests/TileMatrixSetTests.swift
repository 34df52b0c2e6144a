import AreoGeometry
import Foundation
import Testing

/// The tile matrix sets: their zooms reach the camera's resolution, tiles tile the extent, the
/// polar sets cover poleward of 65°, hostile tile coordinates are refused, and the OGC document
/// says what the code does.
@Suite struct TileMatrixSetTests {
    @Test func theEquirectangularQuadReachesTheCamerasResolution() throws {
        let set = TileMatrixSet.marsEquirectangular
        #expect(set.matrixSize(zoom: 0) == (2, 1))
        #expect(abs(set.cellSize(zoom: 14) - 2.544) < 0.001, "zoom 14 ≈ 2.5 m/pixel")
        #expect(set.zoom(forScale: 4) == 13 && set.zoom(forScale: 2.6) == 13 && set.zoom(forScale: 2.5) == 14)
        // The whole planet: the top-left tile starts at 180° W, 90° N; the bottom-right ends at 180° E, 90° S.
        let first = try #require(set.tile(zoom: 3, column: 0, row: 0)), last = try #require(set.tile(zoom: 3, column: 15, row: 7))
        let nw = set.projection.inverse(x: first.bounds.minX + 1e-6, y: first.bounds.maxY)
        #expect(abs(nw.latitude - 90) < 1e-9 && abs(nw.longitude - 180) < 1e-6)
        let se = set.projection.inverse(x: last.bounds.maxX - 1e-6, y: last.bounds.minY)
        #expect(abs(se.latitude + 90) < 1e-9 && abs(se.longitude - 180) < 1e-6)
        // Neighbours share their edges exactly.
        let right = try #require(set.tile(zoom: 3, column: 1, row: 0)), below = try #require(set.tile(zoom: 3, column: 0, row: 1))
        #expect(first.bounds.maxX == right.bounds.minX && first.bounds.minY == below.bounds.maxY)
        #expect(first.grid.width == 256 && abs(first.grid.scale - set.cellSize(zoom: 3)) < 1e-9)
    }

    @Test func thePolarSetsCoverPolewardOf65Degrees() throws {
        for north in [true, false] {
            let set = TileMatrixSet.polar(north: north)
            let whole = try #require(set.tile(zoom: 0, column: 0, row: 0)).bounds
            for longitude in stride(from: 0.0, to: 360, by: 15) {
                let p = set.projection.forward(latitude: north ? 65 : -65, longitude: longitude)
                #expect(p.x > whole.minX && p.x < whole.maxX && p.y > whole.minY && p.y < whole.maxY, "65° at \(longitude)° E is inside")
            }
            let centre = set.projection.inverse(x: 0, y: 0)
            #expect(abs(abs(centre.latitude) - 90) < 1e-9)
        }
    }

    @Test func hostileTileCoordinatesAreRefused() {
        let set = TileMatrixSet.marsEquirectangular
        for (z, x, y) in [(-1, 0, 0), (15, 0, 0), (Int.max, 0, 0), (0, 2, 0), (0, 0, 1), (3, -1, 0), (3, 0, Int.min), (14, 1 << 15, 0)] {
            #expect(set.tile(zoom: z, column: x, row: y) == nil, "\(z)/\(x)/\(y)")
        }
        #expect(set.tile(zoom: 14, column: (1 << 15) - 1, row: (1 << 14) - 1) != nil)
        #expect(TileMatrixSet.named("mars-eqc") == set && TileMatrixSet.named("WebMercatorQuad") == nil)
        #expect(set.zoom(forScale: .nan) == 0 && set.zoom(forScale: -1) == 0)
    }

    @Test func theOGCDocumentSaysWhatTheCodeDoes() throws {
        for set in TileMatrixSet.all {
            let data = try JSONEncoder().encode(set.document)
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["id"] as? String == set.id)
            #expect((object["crs"] as? String)?.hasPrefix("http://www.opengis.net/def/crs/IAU/2015/") == true)
            let matrices = try #require(object["tileMatrices"] as? [[String: Any]])
            #expect(matrices.count == set.maximumZoom + 1)
            for (zoom, matrix) in matrices.enumerated() {
                #expect(matrix["id"] as? String == String(zoom))
                #expect(matrix["matrixWidth"] as? Int == set.matrixSize(zoom: zoom).width)
                #expect(abs((matrix["cellSize"] as? Double ?? 0) - set.cellSize(zoom: zoom)) < 1e-9)
                #expect(abs((matrix["scaleDenominator"] as? Double ?? 0) * 0.000_28 - set.cellSize(zoom: zoom)) < 1e-6)
            }
        }
    }
}

@Suite struct TileContainingPointTests {
    @Test func theTileHoldingAPointHoldsIt() throws {
        for set in TileMatrixSet.all {
            let latitude = set.id == "mars-eqc" ? 15.43 : (set.id.contains("north") ? 78.0 : -81.0)
            for zoom in [0, 5, set.maximumZoom] {
                let tile = try #require(set.tile(containing: latitude, longitude: 140.49, zoom: zoom))
                let (x, y) = set.projection.forward(latitude: latitude, longitude: 140.49)
                let b = tile.bounds
                #expect(b.minX <= x && x < b.maxX && b.minY < y && y <= b.maxY, "\(set.id) z\(zoom)")
                let box = try #require(tile.geographicBox)
                #expect(box.south <= latitude && latitude <= box.north)
            }
        }
        // Hostile points are refused, never trapped on.
        #expect(TileMatrixSet.marsEquirectangular.tile(containing: .nan, longitude: 0, zoom: 3) == nil)
        #expect(TileMatrixSet.marsEquirectangular.tile(containing: 10, longitude: .infinity, zoom: 3) == nil)
        #expect(TileMatrixSet.marsEquirectangular.tile(containing: 10, longitude: 0, zoom: 99) == nil)
        #expect(TileMatrixSet.polar(north: true).tile(containing: -10, longitude: 0, zoom: 2) == nil)
    }
}
