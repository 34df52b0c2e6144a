import Foundation

/// An observation's footprint on Mars: the convex hull of what its framelets see, with a
/// longitude/latitude box that search can index.
///
/// Longitudes are planetocentric east. The box is *unwrapped*: `west` is in [0, 360) and `east`
/// may pass 360 when the footprint crosses the 0°/360° meridian; a footprint around a pole spans
/// all longitudes (0…360) up to ±90° latitude.
public struct GeographicFootprint: Sendable, Equatable, Codable {
    /// Hull vertices, counter-clockwise in the map projection, not repeated at the end.
    public var ring: [PlanetocentricCoordinates]
    public var west: Double
    public var east: Double
    public var south: Double
    public var north: Double
    /// +1 when the footprint contains the north pole, −1 the south pole, 0 neither.
    public var pole: Int

    /// The hull of `points` (what the framelets' outlines see), formed in `projection`.
    public init?(points: [PlanetocentricCoordinates], projection: MapProjection) {
        guard points.count >= 3 else { return nil }
        let projected = points.map { p -> (x: Double, y: Double, p: PlanetocentricCoordinates) in
            let (x, y) = projection.forward(latitude: p.latitude, longitude: p.longitude)
            return (x, y, p)
        }
        let hull = Self.convexHull(projected)
        guard hull.count >= 3 else { return nil }
        ring = hull.map(\.p)
        pole = 0
        for (latitude, sign) in [(90.0, 1), (-90.0, -1)] {
            let (x, y) = projection.forward(latitude: latitude, longitude: 0)
            if x.isFinite, y.isFinite, Self.contains(hull.map { ($0.x, $0.y) }, x, y) { pole = sign }
        }
        south = points.map(\.latitude).min()!
        north = points.map(\.latitude).max()!
        if pole == 1 { north = 90 }
        if pole == -1 { south = -90 }
        if pole != 0 {
            (west, east) = (0, 360)
        } else {
            (west, east) = Self.longitudeSpan(points.map(\.longitude))
        }
    }

    public init(ring: [PlanetocentricCoordinates], west: Double, east: Double, south: Double, north: Double, pole: Int) {
        (self.ring, self.west, self.east, self.south, self.north, self.pole) = (ring, west, east, south, north, pole)
    }

    /// The smallest arc holding every longitude: (west in [0, 360), east ≥ west, possibly > 360).
    public static func longitudeSpan(_ longitudes: [Double]) -> (west: Double, east: Double) {
        let sorted = longitudes.map { normalized($0) }.sorted()
        guard let first = sorted.first, let last = sorted.last else { return (0, 0) }
        // The arc is the complement of the largest gap between consecutive longitudes.
        var gap = first + 360 - last, west = first, east = last
        for (a, b) in zip(sorted, sorted.dropFirst()) where b - a > gap {
            gap = b - a
            (west, east) = (b, a + 360)
        }
        return (west, east)
    }

    /// `longitude` in [0, 360).
    public static func normalized(_ longitude: Double) -> Double {
        let l = longitude.truncatingRemainder(dividingBy: 360)
        return l < 0 ? l + 360 : l
    }

    /// The centre of the box (latitude, east longitude in [0, 360)).
    public var centre: PlanetocentricCoordinates {
        PlanetocentricCoordinates(latitude: (south + north) / 2, longitude: Self.normalized((west + east) / 2))
    }

    /// GeoJSON geometry (RFC 7946 order: [longitude, latitude]) with longitudes in −180…180: a
    /// Polygon, or a MultiPolygon split at ±180° when the footprint crosses that meridian.
    public var geoJSON: GeoJSONGeometry {
        // Unwrap the ring so consecutive longitudes never jump, then place it in −180…180.
        var unwrapped: [(Double, Double)] = []
        for p in ring {
            var lon = p.longitude > 180 ? p.longitude - 360 : p.longitude
            if let previous = unwrapped.last?.0 {
                while lon - previous > 180 { lon -= 360 }
                while lon - previous < -180 { lon += 360 }
            }
            unwrapped.append((lon, p.latitude))
        }
        let mean = unwrapped.map(\.0).reduce(0, +) / Double(max(1, unwrapped.count))
        if mean > 180 { unwrapped = unwrapped.map { ($0.0 - 360, $0.1) } }
        if mean < -180 { unwrapped = unwrapped.map { ($0.0 + 360, $0.1) } }
        func closed(_ points: [(Double, Double)]) -> [[Double]] {
            let rounded = points.map { [($0.0 * 1e6).rounded() / 1e6, ($0.1 * 1e6).rounded() / 1e6] }
            return rounded + (rounded.first.map { [$0] } ?? [])
        }
        let lons = unwrapped.map(\.0)
        guard pole == 0, let low = lons.min(), let high = lons.max(), low < -180 || high > 180 else {
            return .polygon([closed(unwrapped)])
        }
        let seam = high > 180 ? 180.0 : -180.0
        let inside = Self.clip(unwrapped, atLongitude: seam, keepBelow: seam > 0)
        let outside = Self.clip(unwrapped, atLongitude: seam, keepBelow: seam < 0).map { ($0.0 - 2 * seam, $0.1) }
        return .multiPolygon([[closed(inside)], [closed(outside)]])
    }

    /// Sutherland–Hodgman clip of a polygon against the half-plane lon ≤ seam (or ≥ seam).
    static func clip(_ polygon: [(Double, Double)], atLongitude seam: Double, keepBelow: Bool) -> [(Double, Double)] {
        func inside(_ p: (Double, Double)) -> Bool { keepBelow ? p.0 <= seam : p.0 >= seam }
        var result: [(Double, Double)] = []
        for (k, current) in polygon.enumerated() {
            let previous = polygon[(k + polygon.count - 1) % polygon.count]
            if inside(current) != inside(previous) {
                let f = (seam - previous.0) / (current.0 - previous.0)
                result.append((seam, previous.1 + f * (current.1 - previous.1)))
            }
            if inside(current) { result.append(current) }
        }
        return result
    }

    /// Andrew's monotone chain; counter-clockwise.
    static func convexHull<T>(_ points: [(x: Double, y: Double, p: T)]) -> [(x: Double, y: Double, p: T)] {
        let sorted = points.filter { $0.x.isFinite && $0.y.isFinite }.sorted { ($0.x, $0.y) < ($1.x, $1.y) }
        guard sorted.count >= 3 else { return sorted }
        func cross(_ o: (x: Double, y: Double, p: T), _ a: (x: Double, y: Double, p: T), _ b: (x: Double, y: Double, p: T)) -> Double {
            (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
        }
        var lower: [(x: Double, y: Double, p: T)] = [], upper: [(x: Double, y: Double, p: T)] = []
        for point in sorted {
            while lower.count >= 2, cross(lower[lower.count - 2], lower[lower.count - 1], point) <= 0 { lower.removeLast() }
            lower.append(point)
        }
        for point in sorted.reversed() {
            while upper.count >= 2, cross(upper[upper.count - 2], upper[upper.count - 1], point) <= 0 { upper.removeLast() }
            upper.append(point)
        }
        return Array(lower.dropLast()) + Array(upper.dropLast())
    }

    /// Whether (x, y) is inside a convex counter-clockwise polygon.
    static func contains(_ polygon: [(Double, Double)], _ x: Double, _ y: Double) -> Bool {
        for (k, a) in polygon.enumerated() {
            let b = polygon[(k + 1) % polygon.count]
            if (b.0 - a.0) * (y - a.1) - (b.1 - a.1) * (x - a.0) < 0 { return false }
        }
        return true
    }
}

/// A search or mosaic region: a longitude/latitude box, east longitudes, `west > east` meaning
/// the box crosses the 0°/360° meridian (or ±180° when given in −180…180).
public struct GeographicBox: Sendable, Equatable, Hashable {
    /// West edge in [0, 360); `east` ≥ `west`, up to `west` + 360.
    public var west: Double
    public var east: Double
    public var south: Double
    public var north: Double

    /// Parses `west,south,east,north` in degrees (east longitudes in −180…360).
    public init?(parsing text: String) {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4, let w = parts[0], let s = parts[1], let e = parts[2], let n = parts[3] else { return nil }
        self.init(west: w, south: s, east: e, north: n)
    }

    public init?(west w: Double, south s: Double, east e: Double, north n: Double) {
        guard [w, s, e, n].allSatisfy(\.isFinite), (-90...90).contains(s), (-90...90).contains(n), s < n,
              (-180...360).contains(w), (-180...360).contains(e), w != e else { return nil }
        south = s
        north = n
        if e - w >= 360 {
            (west, east) = (0, 360)
        } else {
            west = GeographicFootprint.normalized(w)
            var east = GeographicFootprint.normalized(e)
            if east <= west { east += 360 }
            if e == 360 || (e == 180 && w == -180) { east = west + 360 }
            self.east = east
        }
    }

    /// The box's centre (east longitude in [0, 360)).
    public var centre: PlanetocentricCoordinates {
        PlanetocentricCoordinates(latitude: (south + north) / 2, longitude: GeographicFootprint.normalized((west + east) / 2))
    }

    /// The same box shifted by −360°, 0 and +360°: a footprint box overlaps this region when it
    /// overlaps one of them (both use unwrapped longitudes).
    public var shiftedCopies: [(west: Double, east: Double)] {
        [(west - 360, east - 360), (west, east), (west + 360, east + 360)]
    }
}

/// A GeoJSON geometry (RFC 7946) as footprints need it: a Polygon or a MultiPolygon of rings of
/// [longitude, latitude] positions.
public enum GeoJSONGeometry: Sendable, Equatable, Codable {
    case polygon([[[Double]]])
    case multiPolygon([[[[Double]]]])

    /// The GeoJSON type name.
    public var type: String {
        switch self {
        case .polygon: "Polygon"
        case .multiPolygon: "MultiPolygon"
        }
    }

    enum CodingKeys: String, CodingKey { case type, coordinates }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .polygon(let rings): try container.encode(rings, forKey: .coordinates)
        case .multiPolygon(let polygons): try container.encode(polygons, forKey: .coordinates)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "Polygon": self = .polygon(try container.decode([[[Double]]].self, forKey: .coordinates))
        case "MultiPolygon": self = .multiPolygon(try container.decode([[[[Double]]]].self, forKey: .coordinates))
        case let other: throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "not a Polygon or MultiPolygon: \(other)")
        }
    }
}
