#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The map projections of Areo's products, on a sphere of the Mars equatorial radius, taking
/// planetocentric latitude and east longitude (the HiRISE/CaSSIS convention): equirectangular for
/// observations centred within 65° of the equator, polar stereographic poleward. The parameters
/// are those a PDS4 Cart label states, and the formulas those of PROJ's `eqc` and `stere`
/// (Snyder 1987, §12 and §21), which the tests check against.
public enum MapProjection: Sendable, Equatable, Hashable {
    /// `x = R·(λ − λ0)·cos φ1`, `y = R·φ` (PROJ `+proj=eqc +lat_ts=φ1 +lon_0=λ0`).
    case equirectangular(centerLongitude: Double, standardParallel: Double)
    /// `ρ = 2R·tan(π/4 − |φ|/2)`, `x = ρ·sin(λ − λ0)`, `y = ∓ρ·cos(λ − λ0)` (north: −; PROJ
    /// `+proj=stere +lat_0=±90 +lon_0=λ0 +k=1`).
    case polarStereographic(north: Bool, centerLongitude: Double)

    /// Sphere radius, metres: the IAU 2000 Mars equatorial radius.
    public static let radius = 3_396_190.0
    /// |latitude| above which an observation is projected polar stereographic.
    public static let polarLatitude = 65.0

    /// The projection for an observation centred at (`latitude`, `longitude`): equirectangular
    /// with the centre latitude (whole degrees) as standard parallel and the centre longitude
    /// (whole degrees) as central meridian; polar stereographic with central meridian 0 poleward
    /// of 65°.
    public static func forObservation(latitude: Double, longitude: Double) -> MapProjection {
        if abs(latitude) > polarLatitude { return .polarStereographic(north: latitude > 0, centerLongitude: 0) }
        var lon = longitude.rounded()
        if lon >= 360 { lon -= 360 }
        return .equirectangular(centerLongitude: lon, standardParallel: latitude.rounded())
    }

    /// Metres east and north of the projection origin.
    public func forward(latitude: Double, longitude: Double) -> (x: Double, y: Double) {
        let r = Self.radius, phi = latitude * .pi / 180
        switch self {
        case .equirectangular(let lon0, let lat1):
            let dLambda = Self.wrap(longitude - lon0) * .pi / 180
            return (r * dLambda * cos(lat1 * .pi / 180), r * phi)
        case .polarStereographic(let north, let lon0):
            let dLambda = (longitude - lon0) * .pi / 180
            let rho = 2 * r * tan(.pi / 4 - (north ? phi : -phi) / 2)
            return north ? (rho * sin(dLambda), -rho * cos(dLambda)) : (rho * sin(dLambda), rho * cos(dLambda))
        }
    }

    /// Planetocentric latitude and east longitude in [0, 360) of map point (x, y).
    public func inverse(x: Double, y: Double) -> (latitude: Double, longitude: Double) {
        let r = Self.radius
        switch self {
        case .equirectangular(let lon0, let lat1):
            var lon = lon0 + x / (r * cos(lat1 * .pi / 180)) * 180 / .pi
            lon = lon.truncatingRemainder(dividingBy: 360)
            if lon < 0 { lon += 360 }
            return (y / r * 180 / .pi, lon)
        case .polarStereographic(let north, let lon0):
            let rho = (x * x + y * y).squareRoot()
            let c = 2 * atan(rho / (2 * r))
            let lat = (.pi / 2 - c) * 180 / .pi
            var lon = lon0 + (north ? atan2(x, -y) : atan2(x, y)) * 180 / .pi
            lon = lon.truncatingRemainder(dividingBy: 360)
            if lon < 0 { lon += 360 }
            return (north ? lat : -lat, lon)
        }
    }

    /// Whether latitude depends on y alone and longitude on x alone (equirectangular): a grid's
    /// rows then share a latitude and its columns a longitude.
    public var isSeparable: Bool {
        if case .equirectangular = self { return true }
        return false
    }

    /// `Δλ` into (−180, 180].
    static func wrap(_ degrees: Double) -> Double {
        var d = degrees.truncatingRemainder(dividingBy: 360)
        if d > 180 { d -= 360 }
        if d <= -180 { d += 360 }
        return d
    }

    /// The PROJ string of this projection (for labels, and for checking against PROJ).
    public var projString: String {
        switch self {
        case .equirectangular(let lon0, let lat1):
            "+proj=eqc +lat_ts=\(lat1) +lat_0=0 +lon_0=\(lon0) +x_0=0 +y_0=0 +R=\(Self.radius) +units=m +no_defs"
        case .polarStereographic(let north, let lon0):
            "+proj=stere +lat_0=\(north ? 90 : -90) +lon_0=\(lon0) +k=1 +x_0=0 +y_0=0 +R=\(Self.radius) +units=m +no_defs"
        }
    }
}

/// A north-up raster on a map projection: pixel (i, j) has its centre at
/// `x = minX + (i + 0.5)·scale`, `y = maxY − (j + 0.5)·scale`.
public struct MapGrid: Sendable, Equatable, Hashable {
    public var projection: MapProjection
    /// Metres per pixel.
    public var scale: Double
    /// Upper-left corner of the upper-left pixel, metres.
    public var minX: Double
    public var maxY: Double
    public var width: Int
    public var height: Int

    public init(projection: MapProjection, scale: Double, minX: Double, maxY: Double, width: Int, height: Int) {
        self.projection = projection
        self.scale = scale
        self.minX = minX
        self.maxY = maxY
        self.width = width
        self.height = height
    }

    /// The smallest grid, aligned to whole multiples of `scale`, that covers the map box.
    public init(projection: MapProjection, scale: Double, covering box: (minX: Double, minY: Double, maxX: Double, maxY: Double)) {
        let x0 = (box.minX / scale).rounded(.down) * scale, y1 = (box.maxY / scale).rounded(.up) * scale
        let x1 = (box.maxX / scale).rounded(.up) * scale, y0 = (box.minY / scale).rounded(.down) * scale
        self.init(projection: projection, scale: scale, minX: x0, maxY: y1,
                  width: max(1, Int(((x1 - x0) / scale).rounded())), height: max(1, Int(((y1 - y0) / scale).rounded())))
    }

    public var maxX: Double { minX + Double(width) * scale }
    public var minY: Double { maxY - Double(height) * scale }

    /// The map coordinates of pixel centre (i, j).
    public func center(column i: Int, row j: Int) -> (x: Double, y: Double) {
        (minX + (Double(i) + 0.5) * scale, maxY - (Double(j) + 0.5) * scale)
    }

    /// Continuous pixel coordinates of map point (x, y) (centre of pixel (i, j) is (i, j)).
    public func pixel(x: Double, y: Double) -> (column: Double, row: Double) {
        ((x - minX) / scale - 0.5, (maxY - y) / scale - 0.5)
    }
}

extension MapGrid {
    /// Latitude/longitude bounds of the grid (degrees; east longitude, west > east when the
    /// grid crosses the prime meridian; a grid holding a pole spans every longitude).
    public var geographicBounds: (west: Double, east: Double, north: Double, south: Double) {
        var lats: [Double] = [], lons: [Double] = []
        let steps = 32
        for k in 0...steps {
            let f = Double(k) / Double(steps)
            for (x, y) in [(minX + f * (maxX - minX), minY), (minX + f * (maxX - minX), maxY), (minX, minY + f * (maxY - minY)), (maxX, minY + f * (maxY - minY))] {
                let (lat, lon) = projection.inverse(x: x, y: y)
                lats.append(lat)
                lons.append(lon)
            }
        }
        var north = lats.max()!, south = lats.min()!
        if case .polarStereographic(let isNorth, _) = projection, minX <= 0, maxX >= 0, minY <= 0, maxY >= 0 {
            if isNorth { north = 90 } else { south = -90 }
            return (0, 360, north, south)
        }
        // Longitudes: the smallest arc holding them all (they may straddle 0°).
        let sorted = lons.sorted()
        var widestGap = 360 - sorted.last! + sorted.first!, west = sorted.first!, east = sorted.last!
        for (a, b) in zip(sorted, sorted.dropFirst()) where b - a > widestGap {
            widestGap = b - a
            (west, east) = (b, a)
        }
        return (west, east, north, south)
    }
}
