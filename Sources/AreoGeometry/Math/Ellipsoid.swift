#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A biaxial ellipsoid of revolution about +Z, in kilometres.
public struct Ellipsoid: Sendable, Equatable {
    public let equatorialRadius: Double
    public let polarRadius: Double

    public init(equatorialRadius: Double, polarRadius: Double) {
        self.equatorialRadius = equatorialRadius
        self.polarRadius = polarRadius
    }

    /// Mars, IAU 2000 (ICD §7): 3396.19 km × 3376.20 km.
    public static let mars = Ellipsoid(equatorialRadius: 3396.19, polarRadius: 3376.20)

    /// Where the ray `origin + s·direction` (s > 0) first meets the surface, or nil when it misses.
    public func intersect(origin: Vector3, direction: Vector3) -> Vector3? {
        // Scale to the unit sphere: |o' + s·d'|² = 1.
        let scale = Vector3(1 / equatorialRadius, 1 / equatorialRadius, 1 / polarRadius)
        let o = origin * scale, d = direction * scale
        let a = d.dot(d), b = 2 * o.dot(d), c = o.dot(o) - 1
        let discriminant = b * b - 4 * a * c
        guard discriminant >= 0 else { return nil }
        let root = discriminant.squareRoot()
        // The nearer root, computed without cancellation.
        let q = -0.5 * (b + (b < 0 ? -root : root))
        let s1 = q / a, s2 = c / q
        let s: Double
        switch (s1 > 0, s2 > 0) {
        case (true, true): s = min(s1, s2)
        case (true, false): s = s1
        case (false, true): s = s2
        case (false, false): return nil
        }
        return origin + s * direction
    }

    /// The outward unit normal at a surface point.
    public func normal(at p: Vector3) -> Vector3 {
        let a2 = equatorialRadius * equatorialRadius, b2 = polarRadius * polarRadius
        return Vector3(p.x / a2, p.y / a2, p.z / b2).normalized
    }

    /// The surface point at planetocentric latitude and east longitude (degrees).
    public func surfacePoint(latitude: Double, longitude: Double) -> Vector3 {
        surfacePoint(direction: Self.direction(latitude: latitude, longitude: longitude))
    }

    /// The surface point along the unit planetocentric direction `u`.
    @inlinable public func surfacePoint(direction u: Vector3) -> Vector3 {
        // r(φ) for a direction u on the ellipsoid: 1/r² = (ux²+uy²)/a² + uz²/b².
        let a = equatorialRadius, b = polarRadius
        let r = 1 / ((u.x * u.x + u.y * u.y) / (a * a) + u.z * u.z / (b * b)).squareRoot()
        return r * u
    }

    /// The unit vector from the centre towards planetocentric latitude and east longitude (degrees).
    @inlinable public static func direction(latitude: Double, longitude: Double) -> Vector3 {
        let phi = latitude * .pi / 180, lambda = longitude * .pi / 180
        return Vector3(cos(phi) * cos(lambda), cos(phi) * sin(lambda), sin(phi))
    }
}

/// Planetocentric coordinates of a body-fixed point (ICD §7: latitude planetocentric, longitude
/// east-positive in [0, 360)).
public struct PlanetocentricCoordinates: Sendable, Equatable, Codable {
    /// Degrees, −90…90.
    public var latitude: Double
    /// Degrees east, [0, 360).
    public var longitude: Double

    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }

    public init(_ p: Vector3) {
        latitude = atan2(p.z, (p.x * p.x + p.y * p.y).squareRoot()) * 180 / .pi
        var lon = atan2(p.y, p.x) * 180 / .pi
        if lon < 0 { lon += 360 }
        if lon >= 360 { lon -= 360 }
        longitude = lon
    }
}
