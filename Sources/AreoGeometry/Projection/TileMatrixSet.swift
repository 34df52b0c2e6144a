/// The tile matrix sets Areo serves tiles in (OGC Two Dimensional Tile Matrix Set 2.0): a global
/// Mars equirectangular quad, and north and south polar stereographic sets for |latitude| > 65°,
/// on the same sphere (the IAU 2000 Mars radius, planetocentric latitude, east longitude) and with
/// the same projections as the products (``MapProjection``). Tiles are 256 × 256 pixels; each zoom
/// halves the cell size; rows count down from the top-left corner of the set's extent.
public struct TileMatrixSet: Sendable, Equatable {
    /// The identifier in URLs (`/v1/tiles/{id}/…`).
    public let id: String
    public let title: String
    /// The CRS as an OGC URI (IAU 2015 codes for Mars).
    public let crs: String
    public let projection: MapProjection
    /// Projected metres: the top-left corner of zoom 0 and the extent's half widths.
    public let originX: Double, originY: Double
    /// Cell size of zoom 0, metres per pixel.
    public let cellSize0: Double
    /// Tiles across and down at zoom 0.
    public let width0: Int, height0: Int
    public let maximumZoom: Int
    public static let tileSize = 256

    /// `mars-eqc`: equirectangular, central meridian 0°, standard parallel 0° (`+proj=eqc`),
    /// the whole planet in 2 × 1 tiles at zoom 0 (41.7 km/pixel), 2.54 m/pixel at zoom 14.
    public static let marsEquirectangular: TileMatrixSet = {
        let halfWidth = Double.pi * MapProjection.radius
        return TileMatrixSet(
            id: "mars-eqc", title: "Mars equirectangular quad (IAU 2000 sphere, planetocentric)",
            crs: "http://www.opengis.net/def/crs/IAU/2015/49910",
            projection: .equirectangular(centerLongitude: 0, standardParallel: 0),
            originX: -halfWidth, originY: halfWidth / 2, cellSize0: 2 * halfWidth / Double(2 * tileSize), width0: 2, height0: 1, maximumZoom: 14)
    }()

    /// Half the side of the polar sets' square extent, metres (ρ at 65° is 1 505 800 m).
    public static let polarHalfSide = 1_638_400.0

    /// `mars-north-stere` / `mars-south-stere`: polar stereographic, central meridian 0°, scale 1
    /// at the pole (`+proj=stere +lat_0=±90`), a square of ±1 638 400 m (to below 65°) in one tile
    /// at zoom 0 (12.8 km/pixel), 1.56 m/pixel at zoom 13.
    public static func polar(north: Bool) -> TileMatrixSet {
        TileMatrixSet(
            id: north ? "mars-north-stere" : "mars-south-stere",
            title: "Mars \(north ? "north" : "south") polar stereographic (IAU 2000 sphere, |latitude| > 65°)",
            crs: "http://www.opengis.net/def/crs/IAU/2015/\(north ? 49930 : 49935)",
            projection: .polarStereographic(north: north, centerLongitude: 0),
            originX: -polarHalfSide, originY: polarHalfSide, cellSize0: 2 * polarHalfSide / Double(tileSize), width0: 1, height0: 1, maximumZoom: 13)
    }

    /// Every set, by id.
    public static let all: [TileMatrixSet] = [marsEquirectangular, polar(north: true), polar(north: false)]

    /// The set called `id`, nil when there is none.
    public static func named(_ id: String) -> TileMatrixSet? { all.first { $0.id == id } }

    /// Metres per pixel at `zoom`.
    public func cellSize(zoom: Int) -> Double { cellSize0 / Double(1 << zoom) }

    /// Tiles across and down at `zoom`.
    public func matrixSize(zoom: Int) -> (width: Int, height: Int) { (width0 << zoom, height0 << zoom) }

    /// One tile, checked: nil unless `zoom` is a zoom of the set and (column, row) a tile of it
    /// (so a hostile URL never reaches a shift or a conversion that could trap).
    public func tile(zoom: Int, column: Int, row: Int) -> Tile? {
        guard (0...maximumZoom).contains(zoom) else { return nil }
        let (width, height) = matrixSize(zoom: zoom)
        guard (0..<width).contains(column), (0..<height).contains(row) else { return nil }
        return Tile(set: self, zoom: zoom, column: column, row: row)
    }

    /// The tile of `zoom` holding the point (`latitude`, `longitude`), nil outside the set.
    public func tile(containing latitude: Double, longitude: Double, zoom: Int) -> Tile? {
        guard (0...maximumZoom).contains(zoom), latitude.isFinite, longitude.isFinite, abs(latitude) <= 90 else { return nil }
        let (x, y) = projection.forward(latitude: latitude, longitude: longitude)
        let side = cellSize(zoom: zoom) * Double(Self.tileSize)
        let column = ((x - originX) / side).rounded(.down), row = ((originY - y) / side).rounded(.down)
        guard column.isFinite, row.isFinite, abs(column) < 1e9, abs(row) < 1e9 else { return nil }
        return tile(zoom: zoom, column: Int(column), row: Int(row))
    }

    /// The finest zoom whose cells are no smaller than `metresPerPixel` (the zoom a product of
    /// that scale is best seen at), clamped to the set's zooms.
    public func zoom(forScale metresPerPixel: Double) -> Int {
        guard metresPerPixel.isFinite, metresPerPixel > 0 else { return 0 }
        var zoom = 0
        while zoom < maximumZoom, cellSize(zoom: zoom + 1) >= metresPerPixel { zoom += 1 }
        return zoom
    }

    /// A tile of a set.
    public struct Tile: Sendable, Equatable, Hashable {
        public let set: TileMatrixSet
        public let zoom: Int, column: Int, row: Int

        /// Projected bounds, metres: west, south, east, north.
        public var bounds: (minX: Double, minY: Double, maxX: Double, maxY: Double) {
            let side = set.cellSize(zoom: zoom) * Double(TileMatrixSet.tileSize)
            let minX = set.originX + Double(column) * side, maxY = set.originY - Double(row) * side
            return (minX, maxY - side, minX + side, maxY)
        }

        /// The map grid of the tile's pixels (256 × 256, pixel centres half a cell in).
        public var grid: MapGrid {
            let b = bounds
            return MapGrid(projection: set.projection, scale: set.cellSize(zoom: zoom), minX: b.minX, maxY: b.maxY,
                           width: TileMatrixSet.tileSize, height: TileMatrixSet.tileSize)
        }

        /// The latitude/longitude box the tile covers (what catalogue searches for its sources).
        public var geographicBox: GeographicBox? {
            let b = grid.geographicBounds
            return GeographicBox(west: b.west, south: b.south, east: b.east, north: b.north)
        }

        /// `mars-eqc/14/8123/4567`.
        public var path: String { "\(set.id)/\(zoom)/\(column)/\(row)" }

        public static func == (a: Tile, b: Tile) -> Bool { a.set.id == b.set.id && a.zoom == b.zoom && a.column == b.column && a.row == b.row }
        public func hash(into hasher: inout Hasher) { hasher.combine(set.id); hasher.combine(zoom); hasher.combine(column); hasher.combine(row) }
    }

    public static func == (a: TileMatrixSet, b: TileMatrixSet) -> Bool { a.id == b.id }

    // MARK: OGC TileMatrixSet 2.0 JSON

    /// The set as an OGC TMS 2.0 document.
    public var document: Document {
        Document(
            id: id, title: title, crs: crs, orderedAxes: ["E", "N"],
            tileMatrices: (0...maximumZoom).map { zoom in
                let (width, height) = matrixSize(zoom: zoom)
                let cell = cellSize(zoom: zoom)
                return .init(
                    id: String(zoom), scaleDenominator: cell / 0.000_28, cellSize: cell, cornerOfOrigin: "topLeft",
                    pointOfOrigin: [originX, originY], tileWidth: Self.tileSize, tileHeight: Self.tileSize,
                    matrixWidth: width, matrixHeight: height)
            })
    }

    /// OGC TMS 2.0 (`tileMatrixSet` JSON encoding).
    public struct Document: Sendable, Codable, Equatable {
        public struct TileMatrix: Sendable, Codable, Equatable {
            public var id: String
            public var scaleDenominator: Double
            public var cellSize: Double
            public var cornerOfOrigin: String
            public var pointOfOrigin: [Double]
            public var tileWidth: Int
            public var tileHeight: Int
            public var matrixWidth: Int
            public var matrixHeight: Int
        }
        public var id: String
        public var title: String
        public var crs: String
        public var orderedAxes: [String]
        public var tileMatrices: [TileMatrix]
    }
}
