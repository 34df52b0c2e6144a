import AreoTelemetry

/// Interpolates a geometry kernel (ICD §7): the spacecraft's position by cubic Hermite
/// interpolation of positions and velocities, its attitude by spherical linear interpolation, the
/// Sun linearly, and SCLK → t through the clock correlation. Outside the records the end segment
/// is extended.
public struct Trajectory: Sendable {
    /// Where everything is at one moment, in the Mars body-fixed frame (km, km/s).
    public struct State: Sendable, Equatable {
        public var t: Double
        public var position: Vector3
        public var velocity: Vector3
        /// Instrument frame (rotation angle 0) → body-fixed.
        public var attitude: Quaternion
        public var sun: Vector3

        public init(t: Double, position: Vector3, velocity: Vector3, attitude: Quaternion, sun: Vector3) {
            (self.t, self.position, self.velocity, self.attitude, self.sun) = (t, position, velocity, attitude, sun)
        }
    }

    public let kernelID: String
    private let clock: (sclk: [Double], t: [Double])
    private let ephemerisT: [Double]
    private let positions: [Vector3]
    private let velocities: [Vector3]
    private let attitudeT: [Double]
    private let quaternions: [Quaternion]
    private let sunT: [Double]
    private let sunPositions: [Vector3]

    /// - Precondition: the kernel is valid (``GeometryKernel/violations`` is empty).
    public init(kernel: GeometryKernel) {
        kernelID = kernel.kernelID
        clock = (kernel.clock.map(\.sclk), kernel.clock.map(\.t))
        ephemerisT = kernel.ephemeris.map(\.t)
        positions = kernel.ephemeris.map { Vector3($0.position) }
        velocities = kernel.ephemeris.map { Vector3($0.velocity) }
        attitudeT = kernel.attitude.map(\.t)
        quaternions = kernel.attitude.map { Quaternion($0.quaternion).normalized }
        sunT = kernel.sun.map(\.t)
        sunPositions = kernel.sun.map { Vector3($0.position) }
    }

    /// Ground time t for a spacecraft clock reading (ICD §1): piecewise linear; a single point
    /// means rate 1.
    public func t(sclk: Double) -> Double {
        guard clock.sclk.count > 1 else { return clock.t[0] + (sclk - clock.sclk[0]) }
        let i = Self.segment(clock.sclk, sclk)
        let f = (sclk - clock.sclk[i]) / (clock.sclk[i + 1] - clock.sclk[i])
        return clock.t[i] + f * (clock.t[i + 1] - clock.t[i])
    }

    /// The state at ground time `t`.
    public func state(at t: Double) -> State {
        State(t: t, position: position(at: t), velocity: velocity(at: t), attitude: attitude(at: t), sun: sun(at: t))
    }

    /// Cubic Hermite position.
    public func position(at t: Double) -> Vector3 {
        guard positions.count > 1 else { return positions[0] + (t - ephemerisT[0]) * velocities[0] }
        let i = Self.segment(ephemerisT, t)
        let h = ephemerisT[i + 1] - ephemerisT[i], s = (t - ephemerisT[i]) / h
        let s2 = s * s, s3 = s2 * s
        let h00 = 2 * s3 - 3 * s2 + 1, h10 = s3 - 2 * s2 + s, h01 = -2 * s3 + 3 * s2, h11 = s3 - s2
        return h00 * positions[i] + (h10 * h) * velocities[i] + h01 * positions[i + 1] + (h11 * h) * velocities[i + 1]
    }

    /// The derivative of the Hermite position.
    public func velocity(at t: Double) -> Vector3 {
        guard positions.count > 1 else { return velocities[0] }
        let i = Self.segment(ephemerisT, t)
        let h = ephemerisT[i + 1] - ephemerisT[i], s = (t - ephemerisT[i]) / h
        let s2 = s * s
        let d00 = 6 * s2 - 6 * s, d10 = 3 * s2 - 4 * s + 1, d01 = -6 * s2 + 6 * s, d11 = 3 * s2 - 2 * s
        return (d00 / h) * positions[i] + d10 * velocities[i] + (d01 / h) * positions[i + 1] + d11 * velocities[i + 1]
    }

    /// SLERP attitude.
    public func attitude(at t: Double) -> Quaternion {
        guard quaternions.count > 1 else { return quaternions[0] }
        let i = Self.segment(attitudeT, t)
        let f = (t - attitudeT[i]) / (attitudeT[i + 1] - attitudeT[i])
        return Quaternion.slerp(quaternions[i], quaternions[i + 1], min(max(f, 0), 1))
    }

    /// Linearly interpolated Sun position.
    public func sun(at t: Double) -> Vector3 {
        guard sunPositions.count > 1 else { return sunPositions[0] }
        let i = Self.segment(sunT, t)
        let f = (t - sunT[i]) / (sunT[i + 1] - sunT[i])
        return sunPositions[i] + f * (sunPositions[i + 1] - sunPositions[i])
    }

    /// The index i of the segment [xs[i], xs[i+1]] holding x (the first or last one outside).
    static func segment(_ xs: [Double], _ x: Double) -> Int {
        var low = 0, high = xs.count - 1
        if x <= xs[0] { return 0 }
        if x >= xs[high] { return high - 1 }
        while high - low > 1 {
            let mid = (low + high) / 2
            if xs[mid] <= x { low = mid } else { high = mid }
        }
        return low
    }
}
