import AreoTelemetry
import Foundation

/// A shape model (ICD §11): planetary radius in metres on a geographic grid (planetocentric
/// latitude, east longitude, degrees, pixel-is-area), with its identity from the side file.
/// Radius between pixel centres is interpolated bilinearly; a point whose four neighbours are not
/// all data has no radius here (the ellipsoid applies, or a coarser model).
public struct ShapeModel: Sendable {
    public let id: String
    public let produced: Date
    /// The side file's `resolution_m`: what the applicability rule compares.
    public let resolution: Double
    public let width: Int
    public let height: Int
    /// Longitude of the west edge of the first column and latitude of the north edge of the first row, degrees.
    public let west: Double
    public let north: Double
    /// Degrees per pixel (east, south).
    public let pixelWidth: Double
    public let pixelHeight: Double
    /// Row-major from the north, metres; NaN is no data.
    public let radii: [Float]
    /// The lowest and highest radius with data, metres.
    public let radiusRange: ClosedRange<Double>

    /// Plausible radii of Mars, metres (the highest and lowest points are within 30 km of 3 390 km).
    public static let plausibleRadii: ClosedRange<Double> = 3_300_000...3_500_000

    /// A model from its raster and side file, checked against the ICD.
    /// - Throws: ``ShapeModelError`` naming the rule (the caller adds the file name).
    public init(
        id: String, produced: Date, resolution: Double, width: Int, height: Int, west: Double, north: Double,
        pixelWidth: Double, pixelHeight: Double, values: [Float], noData: Double?
    ) throws(ShapeModelError) {
        guard PlainName.isValid(id, length: 64) else { throw ShapeModelError("dem_id must be 1–64 characters of [A-Za-z0-9._-], not '\(id.prefix(64))'") }
        guard resolution.isFinite, resolution > 0, resolution < 1_000_000 else { throw ShapeModelError("resolution_m must be a positive number of metres (below 1000 km)") }
        guard width > 1, height > 1, values.count == width * height else { throw ShapeModelError("the raster must be at least 2 × 2 pixels") }
        guard pixelWidth.isFinite, pixelHeight.isFinite, pixelWidth > 0, pixelHeight > 0, pixelWidth <= 10, pixelHeight <= 10 else {
            throw ShapeModelError("ModelPixelScaleTag must give positive pixel sizes of at most 10°")
        }
        guard west.isFinite, north.isFinite, (-180...360).contains(west), (-90...90).contains(north) else {
            throw ShapeModelError("the tie point must be a longitude in −180…360 and a latitude in −90…90")
        }
        let south = north - Double(height) * pixelHeight, east = west + Double(width) * pixelWidth
        guard south >= -90 - pixelHeight * 1e-6, east - west <= 360 + pixelWidth * 1e-6 else {
            throw ShapeModelError("the grid reaches latitude \(south) or spans \(east - west)° of longitude: beyond the planet")
        }
        var radii = values
        var data = 0
        var (low, high) = (Double.infinity, -Double.infinity)
        for k in radii.indices {
            let value = Double(radii[k])
            if let noData, value == noData || (noData.isNaN && value.isNaN) { radii[k] = .nan; continue }
            guard value.isFinite else { throw ShapeModelError("pixel \(k % width), \(k / width) is \(value), not a radius (and not the no-data value)") }
            guard Self.plausibleRadii.contains(value) else {
                throw ShapeModelError("pixel \(k % width), \(k / width) is \(value) m: a planetary radius in metres lies in \(Int(Self.plausibleRadii.lowerBound))…\(Int(Self.plausibleRadii.upperBound)) (heights or kilometres are not radii)")
            }
            data += 1
            (low, high) = (min(low, value), max(high, value))
        }
        guard data > 0 else { throw ShapeModelError("every pixel is no data") }
        radiusRange = low...high
        (self.id, self.produced, self.resolution, self.width, self.height) = (id, produced, resolution, width, height)
        (self.west, self.north, self.pixelWidth, self.pixelHeight, self.radii) = (west, north, pixelWidth, pixelHeight, radii)
    }

    public var south: Double { north - Double(height) * pixelHeight }
    public var east: Double { west + Double(width) * pixelWidth }

    /// The radius at (`latitude`, `longitude`) in metres, bilinear between pixel centres; nil
    /// outside the model or where a neighbour is no data.
    public func radius(latitude: Double, longitude: Double) -> Double? {
        GeographicGrid(width: width, height: height, west: west, north: north, pixelWidth: pixelWidth, pixelHeight: pixelHeight)
            .bilinear(radii, latitude: latitude, longitude: longitude)
    }

    /// The model that applies at a point (ICD §11): the finest (`resolution_m` smallest) with
    /// data there, ties to the newest `produced`; nil where none has data (the ellipsoid applies).
    public static func applicable(_ models: [ShapeModel], latitude: Double, longitude: Double) -> (model: ShapeModel, radius: Double)? {
        var best: (model: ShapeModel, radius: Double)? = nil
        for model in models {
            guard let radius = model.radius(latitude: latitude, longitude: longitude) else { continue }
            if let current = best {
                guard model.resolution < current.model.resolution || (model.resolution == current.model.resolution && model.produced > current.model.produced)
                else { continue }
            }
            best = (model, radius)
        }
        return best
    }
}

/// Why a shape model breaks the ICD (§11): the file (when known) and the rule.
public struct ShapeModelError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public let rule: String
    public init(_ rule: String, file: String? = nil) { (self.rule, self.file) = (rule, file) }
    public var description: String { (file.map { "\($0): " } ?? "") + rule }
}

