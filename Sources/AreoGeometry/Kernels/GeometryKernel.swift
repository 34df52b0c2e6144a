import AreoTelemetry
import Foundation

/// A "SPICE-like" geometry kernel (ICD §7): clock correlation, spacecraft ephemeris and attitude,
/// and the Sun, in the Mars body-fixed frame.
public struct GeometryKernel: Sendable, Codable, Equatable {
    /// predicted < reconstructed < refined.
    public enum Kind: String, Sendable, Codable, Comparable, CaseIterable {
        case predicted, reconstructed, refined

        public var rank: Int { Self.allCases.firstIndex(of: self)! }
        public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    }

    public struct EphemerisRecord: Sendable, Codable, Equatable {
        public var t: Double
        public var position: [Double]
        public var velocity: [Double]

        public init(t: Double, position: [Double], velocity: [Double]) {
            (self.t, self.position, self.velocity) = (t, position, velocity)
        }
    }

    public struct AttitudeRecord: Sendable, Codable, Equatable {
        public var t: Double
        /// [w, x, y, z], unit, scalar first.
        public var quaternion: [Double]

        public init(t: Double, quaternion: [Double]) {
            (self.t, self.quaternion) = (t, quaternion)
        }
    }

    public struct SunRecord: Sendable, Codable, Equatable {
        public var t: Double
        public var position: [Double]

        public init(t: Double, position: [Double]) {
            (self.t, self.position) = (t, position)
        }
    }

    public var kernelID: String
    public var kind: Kind
    public var produced: String
    public var frame: String
    public var coverageSCLK: [Double]
    public var clock: [ClockCorrelation.Point]
    public var ephemeris: [EphemerisRecord]
    public var attitude: [AttitudeRecord]
    public var sun: [SunRecord]
    /// A refined kernel's origin (ICD §12): the kernel it corrects and the control it used.
    public var derivedFrom: Derivation?
    /// A refined kernel's correction with its uncertainty and the residuals of its fit (ICD §12).
    public var refinement: Refinement?

    /// What a refined kernel was derived from (ICD §12 `derived_from`).
    public struct Derivation: Sendable, Codable, Equatable {
        public var kernelID: String
        public var referenceMaps: [String]
        public var observations: [Int]
        public init(kernelID: String, referenceMaps: [String], observations: [Int]) {
            (self.kernelID, self.referenceMaps, self.observations) = (kernelID, referenceMaps, observations)
        }
        enum CodingKeys: String, CodingKey { case kernelID = "kernel_id", referenceMaps = "reference_maps", observations }
    }

    /// The correction a refined kernel applies to its base kernel's records, with 1σ
    /// uncertainties, and the residuals of the tie points after it.
    public struct Refinement: Sendable, Codable, Equatable {
        public var correction: GeometryCorrection
        public var timeOffsetSigmaSeconds: Double
        public var attitudeBiasSigmaDegrees: [Double]
        public var attitudeBiasRateSigmaDegreesPerSecond: [Double]?
        public var ties: Int
        public var residualRMSPixels: Double
        public var residualMedianPixels: Double
        public init(correction: GeometryCorrection, timeOffsetSigmaSeconds: Double, attitudeBiasSigmaDegrees: [Double],
                    attitudeBiasRateSigmaDegreesPerSecond: [Double]?, ties: Int, residualRMSPixels: Double, residualMedianPixels: Double) {
            self.correction = correction
            self.timeOffsetSigmaSeconds = timeOffsetSigmaSeconds
            self.attitudeBiasSigmaDegrees = attitudeBiasSigmaDegrees
            self.attitudeBiasRateSigmaDegreesPerSecond = attitudeBiasRateSigmaDegreesPerSecond
            (self.ties, self.residualRMSPixels, self.residualMedianPixels) = (ties, residualRMSPixels, residualMedianPixels)
        }
        enum CodingKeys: String, CodingKey {
            case correction, ties
            case timeOffsetSigmaSeconds = "time_offset_sigma_s"
            case attitudeBiasSigmaDegrees = "attitude_bias_sigma_deg"
            case attitudeBiasRateSigmaDegreesPerSecond = "attitude_bias_rate_sigma_deg_per_s"
            case residualRMSPixels = "residual_rms_px"
            case residualMedianPixels = "residual_median_px"
        }
    }

    public init(
        kernelID: String, kind: Kind, produced: String, frame: String, coverageSCLK: [Double], clock: [ClockCorrelation.Point],
        ephemeris: [EphemerisRecord], attitude: [AttitudeRecord], sun: [SunRecord]
    ) {
        self.kernelID = kernelID
        self.kind = kind
        self.produced = produced
        self.frame = frame
        self.coverageSCLK = coverageSCLK
        self.clock = clock
        self.ephemeris = ephemeris
        self.attitude = attitude
        self.sun = sun
    }

    enum CodingKeys: String, CodingKey {
        case kind, produced, frame, clock, ephemeris, attitude, sun, refinement
        case kernelID = "kernel_id"
        case derivedFrom = "derived_from"
        case coverageSCLK = "coverage_sclk"
    }

    /// The clock correlation (SCLK → t).
    public var clockCorrelation: ClockCorrelation { ClockCorrelation(points: clock) }

    public var producedDate: Date? { GroundTime.parse(produced) }

    /// The rules of ICD §7 the kernel breaks (empty when valid).
    public var violations: [String] {
        var rules: [String] = []
        if kernelID.isEmpty { rules.append("ICD §7: kernel_id is empty") }
        if producedDate == nil { rules.append("ICD §7: produced '\(produced)' is not ISO 8601") }
        if frame != "MARS_FIXED" { rules.append("ICD §7: frame must be MARS_FIXED, is '\(frame)'") }
        if coverageSCLK.count != 2 || coverageSCLK[0] > coverageSCLK[1] { rules.append("ICD §7: coverage_sclk must be [start, end] with start ≤ end") }
        if clock.isEmpty { rules.append("ICD §7: clock needs at least one correlation point") }
        let numbers = coverageSCLK + clock.flatMap { [$0.sclk, $0.t] } + ephemeris.flatMap { [$0.t] + $0.position + $0.velocity }
            + attitude.flatMap { [$0.t] + $0.quaternion } + sun.flatMap { [$0.t] + $0.position }
        if !numbers.allSatisfy({ $0.isFinite && abs($0) < 1e15 }) { rules.append("ICD §7: every number must be finite (and below 10¹⁵)") }
        if !(coverageSCLK + clock.map(\.sclk)).allSatisfy({ (0...4_294_967_296).contains($0) }) {
            rules.append("ICD §7: clock readings (coverage_sclk, clock sclk) must be in 0…2³² s (ICD §1)")
        }
        if zip(clock, clock.dropFirst()).contains(where: { $0.sclk >= $1.sclk || $0.t >= $1.t }) {
            rules.append("ICD §7: clock points must increase in both sclk and t")
        }
        func ordered(_ times: [Double], maxGap: Double, name: String) {
            if times.isEmpty { rules.append("ICD §7: \(name) is empty"); return }
            for (a, b) in zip(times, times.dropFirst()) {
                if b <= a { rules.append("ICD §7: \(name) records must be in increasing t (at t = \(b))"); return }
                if b - a > maxGap + 1e-6 { rules.append("ICD §7: \(name) records are \(b - a) s apart at t = \(a), at most \(maxGap) s allowed"); return }
            }
        }
        ordered(ephemeris.map(\.t), maxGap: 10, name: "ephemeris")
        ordered(attitude.map(\.t), maxGap: 1, name: "attitude")
        ordered(sun.map(\.t), maxGap: .infinity, name: "sun")
        if let bad = ephemeris.first(where: { $0.position.count != 3 || $0.velocity.count != 3 }) {
            rules.append("ICD §7: ephemeris record at t = \(bad.t) needs 3-vectors position and velocity")
        }
        if let bad = attitude.first(where: { $0.quaternion.count != 4 || abs(sqrt($0.quaternion.map { $0 * $0 }.reduce(0, +)) - 1) > 1e-6 }) {
            rules.append("ICD §7: attitude record at t = \(bad.t) is not a unit quaternion [w, x, y, z]")
        }
        if let bad = sun.first(where: { $0.position.count != 3 }) { rules.append("ICD §7: sun record at t = \(bad.t) needs a 3-vector") }
        if kind == .refined {
            if let derivedFrom {
                if derivedFrom.kernelID.isEmpty || derivedFrom.kernelID == kernelID { rules.append("ICD §12: derived_from.kernel_id must name another kernel") }
            } else {
                rules.append("ICD §12: a refined kernel names the kernel it was derived from (derived_from)")
            }
        } else if derivedFrom != nil {
            rules.append("ICD §12: only a refined kernel has derived_from")
        }
        if let refinement, let rule = refinement.correction.violation { rules.append(rule) }
        return rules
    }

    /// Parses and validates a kernel file.
    /// - Throws: ``TelemetryError`` (code `kernel`) naming the file and the first rule broken.
    public static func parse(_ data: Data, file: String) throws(TelemetryError) -> GeometryKernel {
        let kernel: GeometryKernel
        do {
            kernel = try JSONDecoder().decode(GeometryKernel.self, from: data)
        } catch let error as DecodingError {
            throw TelemetryError(.kernel, "ICD §7: \(ObservationPlan.describe(error))", file: file)
        } catch {
            throw TelemetryError(.kernel, "ICD §7: \(error)", file: file)
        }
        if let rule = kernel.violations.first { throw TelemetryError(.kernel, rule, file: file) }
        return kernel
    }
}
