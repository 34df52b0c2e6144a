import Foundation

/// The correction a refinement estimates for a kernel over one observation (ICD §12): a time
/// offset and an attitude bias in the instrument frame, optionally changing linearly in time.
///
/// - Time: the spacecraft is where the base kernel puts it (and points as it points) at
///   `t + timeOffset`: a timing error of the predicted orbit along track.
/// - Attitude: `q' = q·b(t)`, `b(t)` the rotation by the vector `bias + rate·(t − epoch)`
///   (radians, instrument frame at rotation angle 0): a pointing error. A rotation about the
///   boresight (+Z) is the rotation mechanism's offset (ICD §8, estimated from band
///   registration), so a refinement leaves `bias.z` at 0.
public struct GeometryCorrection: Sendable, Codable, Equatable {
    public var timeOffsetSeconds: Double
    /// Radians about the instrument's X, Y, Z axes.
    public var attitudeBias: Vector3
    /// Radians per second about X, Y, Z (zero unless the tie points support a rate).
    public var attitudeBiasRate: Vector3
    /// Ground time t at which the bias is `attitudeBias` (the observation's middle).
    public var epoch: Double

    public init(timeOffsetSeconds: Double = 0, attitudeBias: Vector3 = Vector3(0, 0, 0), attitudeBiasRate: Vector3 = Vector3(0, 0, 0), epoch: Double = 0) {
        (self.timeOffsetSeconds, self.attitudeBias, self.attitudeBiasRate, self.epoch) = (timeOffsetSeconds, attitudeBias, attitudeBiasRate, epoch)
    }

    public static let none = GeometryCorrection()

    /// The bias rotation at ground time `t` (of the base kernel).
    public func bias(at t: Double) -> Quaternion {
        let v = attitudeBias + (t - epoch) * attitudeBiasRate
        let angle = v.length
        guard angle > 0 else { return Quaternion(w: 1, x: 0, y: 0, z: 0) }
        return Quaternion(axis: v / angle, angle: angle)
    }

    /// The corrected state at base time `t` from the base trajectory.
    public func state(_ trajectory: Trajectory, at t: Double) -> Trajectory.State {
        var state = trajectory.state(at: t + timeOffsetSeconds)
        state.t = t
        state.attitude = (state.attitude * bias(at: t)).normalized
        return state
    }

    /// Why the numbers cannot be a correction (nil when they can): finite, |Δt| ≤ 1 h, |bias| ≤ 10°.
    public var violation: String? {
        let numbers = [timeOffsetSeconds, epoch, attitudeBias.x, attitudeBias.y, attitudeBias.z, attitudeBiasRate.x, attitudeBiasRate.y, attitudeBiasRate.z]
        guard numbers.allSatisfy(\.isFinite) else { return "ICD §12: every number of the correction must be finite" }
        guard abs(timeOffsetSeconds) <= 3_600 else { return "ICD §12: time_offset_s \(timeOffsetSeconds) is beyond an hour" }
        guard attitudeBias.length <= 10 * .pi / 180, attitudeBiasRate.length <= .pi / 180 else {
            return "ICD §12: an attitude bias beyond 10° (or 1°/s) is not a refinement"
        }
        return nil
    }

    /// The records of `base` with the correction applied, as the refined kernel `id` over
    /// `coverage` (SCLK), keeping the records within `margin` seconds of its span: ephemeris and
    /// Sun records move to `t − Δt` (where the base has them at `t`), attitude records too, each
    /// multiplied by the bias. The clock correlation is the base kernel's.
    public func refinedKernel(
        from base: GeometryKernel, id: String, produced: String, coverage: [Double], derivedFrom: GeometryKernel.Derivation,
        refinement: GeometryKernel.Refinement, margin: Double = 30
    ) -> GeometryKernel {
        let trajectory = Trajectory(kernel: base)
        let (from, to) = (trajectory.t(sclk: coverage[0]) - margin, trajectory.t(sclk: coverage[1]) + margin)
        func keep(_ t: Double) -> Bool { t - timeOffsetSeconds >= from && t - timeOffsetSeconds <= to }
        let ephemeris = base.ephemeris.filter { keep($0.t) }.map { GeometryKernel.EphemerisRecord(t: $0.t - timeOffsetSeconds, position: $0.position, velocity: $0.velocity) }
        let attitude = base.attitude.filter { keep($0.t) }.map { record -> GeometryKernel.AttitudeRecord in
            let t = record.t - timeOffsetSeconds
            let q = (Quaternion(record.quaternion).normalized * bias(at: t)).normalized
            return GeometryKernel.AttitudeRecord(t: t, quaternion: [q.w, q.x, q.y, q.z])
        }
        // The Sun moves slowly: every base record, shifted alike.
        let sun = base.sun.map { GeometryKernel.SunRecord(t: $0.t - timeOffsetSeconds, position: $0.position) }
        var kernel = GeometryKernel(
            kernelID: id, kind: .refined, produced: produced, frame: base.frame, coverageSCLK: coverage, clock: base.clock,
            ephemeris: ephemeris.isEmpty ? base.ephemeris : ephemeris, attitude: attitude.isEmpty ? base.attitude : attitude, sun: sun)
        kernel.derivedFrom = derivedFrom
        kernel.refinement = refinement
        return kernel
    }

    enum CodingKeys: String, CodingKey {
        case timeOffsetSeconds = "time_offset_s", attitudeBias = "attitude_bias_deg", attitudeBiasRate = "attitude_bias_rate_deg_per_s", epoch = "epoch_t"
    }

    // In degrees on the wire (ICD §12 states angles in degrees), radians in memory.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let degrees = Double.pi / 180
        func vector(_ key: CodingKeys) throws -> Vector3 {
            let values = try c.decodeIfPresent([Double].self, forKey: key) ?? [0, 0, 0]
            guard values.count == 3 else { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "needs three angles (X, Y, Z)") }
            return Vector3(values[0] * degrees, values[1] * degrees, values[2] * degrees)
        }
        self.init(timeOffsetSeconds: try c.decode(Double.self, forKey: .timeOffsetSeconds), attitudeBias: try vector(.attitudeBias),
                  attitudeBiasRate: try vector(.attitudeBiasRate), epoch: try c.decodeIfPresent(Double.self, forKey: .epoch) ?? 0)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let degrees = 180 / Double.pi
        try c.encode(timeOffsetSeconds, forKey: .timeOffsetSeconds)
        try c.encode([attitudeBias.x, attitudeBias.y, attitudeBias.z].map { $0 * degrees }, forKey: .attitudeBias)
        try c.encode([attitudeBiasRate.x, attitudeBiasRate.y, attitudeBiasRate.z].map { $0 * degrees }, forKey: .attitudeBiasRate)
        try c.encode(epoch, forKey: .epoch)
    }
}
