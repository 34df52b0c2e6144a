#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a detector point sees at one moment: where on Mars, and under which illumination.
public struct SurfaceView: Sendable, Equatable {
    /// The body-fixed surface point, km.
    public var point: Vector3
    public var coordinates: PlanetocentricCoordinates
    /// Angle between the surface normal (the terrain's where a shape model applies, else the
    /// ellipsoid's) and the direction to the Sun, degrees.
    public var incidence: Double
    /// Angle between the surface normal and the direction to the spacecraft, degrees.
    public var emission: Double
    /// Angle between the directions to the Sun and to the spacecraft, degrees.
    public var phase: Double
    /// Local true solar time, hours [0, 24).
    public var localSolarTime: Double
    /// Sun–surface distance, astronomical units.
    public var sunDistanceAU: Double
}

/// One astronomical unit, km (IAU 2012).
public let astronomicalUnitKM = 149_597_870.7

extension Ellipsoid {
    /// Where the ray from `state`'s spacecraft position along body-fixed `direction` meets the
    /// surface, with its illumination; nil when it misses Mars.
    public func view(from state: Trajectory.State, direction: Vector3) -> SurfaceView? {
        guard let p = intersect(origin: state.position, direction: direction) else { return nil }
        return view(of: p, from: state)
    }

    /// The illumination and viewing angles of surface point `p` seen from `state`, measured on
    /// `normal` (by default the ellipsoid's).
    public func view(of p: Vector3, from state: Trajectory.State, normal given: Vector3? = nil) -> SurfaceView {
        let n = given ?? normal(at: p)
        let toSun = state.sun - p, toSpacecraft = state.position - p
        let coordinates = PlanetocentricCoordinates(p)
        let subsolar = PlanetocentricCoordinates(state.sun)
        var lst = 12 + (coordinates.longitude - subsolar.longitude) / 15
        lst = lst.truncatingRemainder(dividingBy: 24)
        if lst < 0 { lst += 24 }
        return SurfaceView(
            point: p, coordinates: coordinates,
            incidence: n.angle(to: toSun) * 180 / .pi, emission: n.angle(to: toSpacecraft) * 180 / .pi,
            phase: toSun.angle(to: toSpacecraft) * 180 / .pi, localSolarTime: lst,
            sunDistanceAU: toSun.length / astronomicalUnitKM)
    }
}
