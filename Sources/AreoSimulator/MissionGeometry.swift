import AreoTelemetry
import AreoGeometry

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The simulated spacecraft, planet and Sun (issue: near-circular ~400 km orbit, 74°
/// inclination, Mars rotating underneath, the Sun from a heliocentric geometry).
public struct MissionGeometry: Sendable {
    /// Mars' gravitational parameter, km³/s².
    public static let gm = 42_828.37
    /// Mars' sidereal rotation period, s.
    public static let rotationPeriod = 88_642.663
    /// Mars' orbit (semi-major axis AU, eccentricity, Ls of perihelion) and obliquity.
    static let orbitA = 1.523_679, orbitE = 0.093_4, perihelionLs = 251.0, obliquity = 25.19

    public let epoch: Double
    public let orbitRadius: Double
    public let inclination: Double
    public let node: Double
    public let argumentAtEpoch: Double
    public let rotationAtEpoch: Double
    /// Solar longitude (degrees), the Sun's distance (AU) and its right ascension in the
    /// inertial frame (constant over a mission of days).
    public let solarLongitude: Double
    public let sunDistanceAU: Double
    let sunDirectionInertial: Vector3
    /// The boresight's roll away from nadir about the along-track axis (CaSSIS looks 10° off nadir), degrees.
    public var offNadirDegrees = 0.0

    public init(epoch: Double, altitude: Double = 400, inclinationDegrees: Double = 74, random: inout SeededRandom) {
        self.epoch = epoch
        orbitRadius = Ellipsoid.mars.equatorialRadius + altitude
        inclination = inclinationDegrees * .pi / 180
        // The orbit's ascending node lies within 3 h of local noon (never a dawn–dusk orbit, which
        // would leave no sunlit ground under the track); drawn after the Sun's right ascension.
        let nodeOffset = (random.unit() - 0.5) * .pi / 2
        argumentAtEpoch = random.unit() * 2 * .pi
        rotationAtEpoch = random.unit() * 2 * .pi
        solarLongitude = random.unit() * 360
        let ls = solarLongitude * .pi / 180
        sunDistanceAU = Self.orbitA * (1 - Self.orbitE * Self.orbitE) / (1 + Self.orbitE * cos(ls - Self.perihelionLs * .pi / 180))
        let declination = asin(sin(Self.obliquity * .pi / 180) * sin(ls))
        let rightAscension = random.unit() * 2 * .pi
        node = rightAscension + nodeOffset
        sunDirectionInertial = Vector3(cos(declination) * cos(rightAscension), cos(declination) * sin(rightAscension), sin(declination))
    }

    /// Orbital period, s.
    public var period: Double { 2 * .pi * (orbitRadius * orbitRadius * orbitRadius / Self.gm).squareRoot() }

    /// Inertial (Mars-centred, equator-aligned) → body-fixed at t.
    func toBody(_ v: Vector3, at t: Double) -> Vector3 {
        let angle = -(rotationAtEpoch + 2 * .pi * (t - epoch) / Self.rotationPeriod)
        let (c, s) = (cos(angle), sin(angle))
        return Vector3(c * v.x - s * v.y, s * v.x + c * v.y, v.z)
    }

    func inertialPosition(at t: Double) -> Vector3 {
        let u = argumentAtEpoch + 2 * .pi * (t - epoch) / period
        let (cu, su, ci, si, cn, sn) = (cos(u), sin(u), cos(inclination), sin(inclination), cos(node), sin(node))
        return orbitRadius * Vector3(cu * cn - su * ci * sn, cu * sn + su * ci * cn, su * si)
    }

    /// Spacecraft position in the body-fixed frame, km.
    public func position(at t: Double) -> Vector3 { toBody(inertialPosition(at: t), at: t) }

    /// Body-fixed velocity (the derivative of ``position(at:)``), km/s.
    public func velocity(at t: Double) -> Vector3 {
        let h = 1e-3
        return (position(at: t + h) - position(at: t - h)) / (2 * h)
    }

    /// The Sun in the body-fixed frame, km.
    public func sun(at t: Double) -> Vector3 { toBody(sunDistanceAU * astronomicalUnitKM * sunDirectionInertial, at: t) }

    /// Nadir pointing: boresight (+Z) to the planet's centre, detector rows (+Y) along the
    /// ground track, +X completing the right-handed frame; then rolled ``offNadirDegrees`` about +Y.
    public func attitude(at t: Double) -> Quaternion {
        let r = position(at: t), v = velocity(at: t)
        let z = (-r).normalized
        let y = (v - v.dot(z) * z).normalized
        let x = y.cross(z)
        let nadir = Quaternion(columns: x, y, z)
        return offNadirDegrees == 0 ? nadir : nadir * Quaternion(axis: Vector3(0, 1, 0), angle: offNadirDegrees * .pi / 180)
    }

    /// The exact state (the truth a reconstructed kernel samples).
    public func state(at t: Double) -> Trajectory.State {
        Trajectory.State(t: t, position: position(at: t), velocity: velocity(at: t), attitude: attitude(at: t), sun: sun(at: t))
    }

    /// A kernel sampling this geometry over [from, to] (ephemeris every 5 s, attitude every
    /// 0.5 s, Sun every 60 s). A predicted kernel's records are those of `timingError` seconds
    /// later and its attitude is turned by `pointingError` radians about the instrument's +X.
    public func kernel(
        id: String, kind: GeometryKernel.Kind, produced: String, from: Double, to: Double,
        clock: [ClockPoint], timingError: Double = 0, pointingError: Double = 0
    ) -> GeometryKernel {
        let bias = Quaternion(axis: Vector3(1, 0, 0), angle: pointingError)
        func times(_ step: Double) -> [Double] {
            let first = (from / step).rounded(.down) * step
            return Array(stride(from: first, through: to + step, by: step))
        }
        return GeometryKernel(
            kernelID: id, kind: kind, produced: produced, frame: "MARS_FIXED",
            coverageSCLK: [clock.first!.sclk, clock.last!.sclk],
            clock: clock.map { .init(sclk: $0.sclk, t: $0.t) },
            ephemeris: times(5).map { t in
                .init(t: t, position: Self.array(position(at: t + timingError)), velocity: Self.array(velocity(at: t + timingError)))
            },
            attitude: times(0.5).map { t in
                let q = attitude(at: t + timingError) * bias
                return .init(t: t, quaternion: [q.w, q.x, q.y, q.z])
            },
            sun: times(60).map { .init(t: $0, position: Self.array(sun(at: $0))) })
    }

    public struct ClockPoint: Sendable { public var sclk: Double; public var t: Double }

    static func array(_ v: Vector3) -> [Double] { [v.x, v.y, v.z] }
}

extension Quaternion {
    /// The rotation whose matrix has columns `x`, `y`, `z` (an orthonormal right-handed frame):
    /// it takes the unit axes to those columns (Shepperd's method).
    public init(columns x: Vector3, _ y: Vector3, _ z: Vector3) {
        let (m00, m11, m22) = (x.x, y.y, z.z)
        let trace = m00 + m11 + m22
        if trace > 0 {
            let s = (trace + 1).squareRoot() * 2
            self.init(w: s / 4, x: (y.z - z.y) / s, y: (z.x - x.z) / s, z: (x.y - y.x) / s)
        } else if m00 > m11 && m00 > m22 {
            let s = (1 + m00 - m11 - m22).squareRoot() * 2
            self.init(w: (y.z - z.y) / s, x: s / 4, y: (y.x + x.y) / s, z: (z.x + x.z) / s)
        } else if m11 > m22 {
            let s = (1 + m11 - m00 - m22).squareRoot() * 2
            self.init(w: (z.x - x.z) / s, x: (y.x + x.y) / s, y: s / 4, z: (z.y + y.z) / s)
        } else {
            let s = (1 + m22 - m00 - m11).squareRoot() * 2
            self.init(w: (x.y - y.x) / s, x: (z.x + x.z) / s, y: (z.y + y.z) / s, z: s / 4)
        }
        self = self.normalized
    }
}
