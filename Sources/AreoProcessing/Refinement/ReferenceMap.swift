import AreoCodecs
import AreoGeometry
import AreoTelemetry
import Foundation

/// A reference map (ICD §12): an orthoimage of earlier, trusted mapping — one band of I/F on a
/// geographic grid (planetocentric latitude, east longitude, degrees, pixel-is-area) — with its
/// identity, scale and positional accuracy from the side file. Values between pixel centres are
/// interpolated bilinearly; a point whose four neighbours are not all data has no value.
public struct ReferenceMap: Sendable {
    public let id: String
    public let produced: Date
    /// Metres per pixel (the side file's `resolution_m`).
    public let resolution: Double
    /// The band whose I/F it holds.
    public let band: Band
    /// How well it is positioned, metres.
    public let accuracy: Double
    public let width: Int
    public let height: Int
    public let west: Double
    public let north: Double
    public let pixelWidth: Double
    public let pixelHeight: Double
    /// Row-major from the north; NaN is no data.
    public let values: [Float]

    /// I/F a reference map may hold: a little below 0 (noise on dark ground) to well above 1 (bright slopes).
    public static let plausibleIoF: ClosedRange<Double> = -0.5...5

    /// - Throws: ``ReferenceMapError`` naming the rule (the caller adds the file name).
    public init(
        id: String, produced: Date, resolution: Double, band: String, accuracy: Double, width: Int, height: Int,
        west: Double, north: Double, pixelWidth: Double, pixelHeight: Double, values: [Float], noData: Double?
    ) throws(ReferenceMapError) {
        guard PlainName.isValid(id, length: 64) else { throw ReferenceMapError("map_id must be 1–64 characters of [A-Za-z0-9._-], not '\(id.prefix(64))'") }
        guard resolution.isFinite, resolution > 0, resolution < 1_000_000 else { throw ReferenceMapError("resolution_m must be a positive number of metres (below 1000 km)") }
        guard accuracy.isFinite, accuracy >= 0, accuracy < 1_000_000 else { throw ReferenceMapError("accuracy_m must be a number of metres ≥ 0") }
        guard let code = Band(name: band.uppercased()) else { throw ReferenceMapError("band '\(band.prefix(16))' is none of PAN, RED, NIR, BLU") }
        guard width > 1, height > 1, values.count == width * height else { throw ReferenceMapError("the raster must be at least 2 × 2 pixels") }
        guard pixelWidth.isFinite, pixelHeight.isFinite, pixelWidth > 0, pixelHeight > 0, pixelWidth <= 10, pixelHeight <= 10 else {
            throw ReferenceMapError("ModelPixelScaleTag must give positive pixel sizes of at most 10°")
        }
        guard west.isFinite, north.isFinite, (-180...360).contains(west), (-90...90).contains(north),
              north - Double(height) * pixelHeight >= -90 - pixelHeight * 1e-6, Double(width) * pixelWidth <= 360 + pixelWidth * 1e-6 else {
            throw ReferenceMapError("the grid must lie on the planet: tie point longitude −180…360, latitude −90…90, at most 360° wide")
        }
        var cleaned = values
        var data = 0
        for k in cleaned.indices {
            let value = Double(cleaned[k])
            if let noData, value == noData || (noData.isNaN && value.isNaN) { cleaned[k] = .nan; continue }
            guard value.isFinite, Self.plausibleIoF.contains(value) else {
                throw ReferenceMapError("pixel \(k % width), \(k / width) is \(value): not I/F (\(Self.plausibleIoF.lowerBound)…\(Self.plausibleIoF.upperBound)) and not the no-data value")
            }
            data += 1
        }
        guard data > 0 else { throw ReferenceMapError("every pixel is no data") }
        (self.id, self.produced, self.resolution, self.band, self.accuracy) = (id, produced, resolution, code, accuracy)
        (self.width, self.height, self.west, self.north, self.pixelWidth, self.pixelHeight, self.values) = (width, height, west, north, pixelWidth, pixelHeight, cleaned)
    }

    public var south: Double { north - Double(height) * pixelHeight }
    public var east: Double { west + Double(width) * pixelWidth }

    /// I/F at (`latitude`, `longitude`), bilinear between pixel centres; nil outside or next to no data.
    public func value(latitude: Double, longitude: Double) -> Float? {
        GeographicGrid(width: width, height: height, west: west, north: north, pixelWidth: pixelWidth, pixelHeight: pixelHeight)
            .bilinear(values, latitude: latitude, longitude: longitude).map(Float.init)
    }
}

/// Why a reference map breaks the ICD (§12): the file (when known) and the rule.
public struct ReferenceMapError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public let rule: String
    public init(_ rule: String, file: String? = nil) { (self.rule, self.file) = (rule, file) }
    public var description: String { (file.map { "\($0): " } ?? "") + rule }
}

/// Reads a reference map as the ICD delivers it (§12): `NAME.tif` (GeoTIFF, one float32 band of
/// I/F, `GDAL_NODATA` for gaps) and its side file `NAME.tif.json` (`map_id`, `produced`,
/// `resolution_m`, `band`, `accuracy_m`).
public enum ReferenceMapFile {
    struct Side: Decodable {
        var mapID: String
        var produced: String
        var resolution: Double
        var band: String
        var accuracy: Double
        enum CodingKeys: String, CodingKey { case mapID = "map_id", produced, resolution = "resolution_m", band, accuracy = "accuracy_m" }
    }

    /// - Throws: ``ReferenceMapError`` naming the file and the rule.
    public static func read(path: String) throws(ReferenceMapError) -> ReferenceMap {
        let name = (path as NSString).lastPathComponent
        let (raster, side, produced): (GeoTIFF.Raster, Side, Date)
        do throws(GeographicRasterFile.Failure) {
            let file = try GeographicRasterFile.read(path: path, section: "§12")
            raster = file.raster
            do { side = try JSONDecoder().decode(Side.self, from: file.side) } catch {
                throw GeographicRasterFile.Failure(
                    rule: "must be {\"map_id\": …, \"produced\": ISO 8601, \"resolution_m\": metres, \"band\": \"PAN\", \"accuracy_m\": metres}", file: name + ".json")
            }
            produced = try GeographicRasterFile.time(side.produced, file: name + ".json")
        } catch { throw ReferenceMapError(error.rule, file: error.file) }
        do {
            return try ReferenceMap(
                id: side.mapID, produced: produced, resolution: side.resolution, band: side.band, accuracy: side.accuracy,
                width: raster.width, height: raster.height, west: raster.tiepoint.x, north: raster.tiepoint.y,
                pixelWidth: raster.pixelScale.x, pixelHeight: raster.pixelScale.y, values: raster.values, noData: raster.noData)
        } catch {
            throw ReferenceMapError(error.rule, file: name)
        }
    }
}
