import AreoGeometry
import Foundation

/// Least squares for the geometry correction of one observation (ICD §12) from tie points:
/// detector positions whose true ground point is known.
///
/// The model is the collinearity of each tie's ground point, the spacecraft and the detector
/// position: the residual of a tie is where its ground point is seen with the corrected geometry
/// (back-projected into the framelet at its mid-exposure time) minus where it was seen, in
/// samples. Unknowns (ICD §12: "a timing error along track, a pointing bias across it"): the time
/// offset, the roll — the attitude bias about the along-track axis, which moves the ground across
/// track — and, when asked, the rates of roll and of pitch. A constant pitch (about the
/// cross-track axis) moves the ground along track exactly as a timing error does, so the images
/// cannot tell them apart: it is not an unknown, the timing takes it (its rate is a change of the
/// timing error over the observation, which they can tell). The bias about +Z is the rotation
/// mechanism's offset, estimated elsewhere. The along-track axis is the spacecraft's velocity in
/// the instrument frame at the middle framelet. Gauss–Newton with a numerical Jacobian and weak
/// zero-mean priors (``Priors``, for the normal equations' sake). Outliers are rejected robustly: residuals
/// beyond about 4 σ (3.5 times the median residual) are dropped and the fit repeated. The
/// covariance is σ̂²·N⁻¹ of the final normal matrix.
public struct RefinementSolver: Sendable {
    /// One tie point.
    public struct Tie: Sendable, Equatable {
        /// Index of the framelet (in the solver's camera list) whose detector saw the point.
        public var framelet: Int
        public var sample: Double
        public var line: Double
        /// The point's true position, body-fixed km.
        public var ground: Vector3
        /// Which control it came from (a reference map id, or an observation id).
        public var control: String

        public init(framelet: Int, sample: Double, line: Double, ground: Vector3, control: String) {
            (self.framelet, self.sample, self.line, self.ground, self.control) = (framelet, sample, line, ground, control)
        }
    }

    /// A framelet's viewing: its mid-exposure ground time and its camera's fixed parts.
    public struct Framelet: Sendable {
        public var midTime: Double
        public var rotationDegrees: Double
        public var firstRow: Int, firstColumn: Int, binning: Int, lines: Int, samples: Int

        public init(midTime: Double, rotationDegrees: Double, firstRow: Int, firstColumn: Int, binning: Int, lines: Int, samples: Int) {
            (self.midTime, self.rotationDegrees) = (midTime, rotationDegrees)
            (self.firstRow, self.firstColumn, self.binning, self.lines, self.samples) = (firstRow, firstColumn, binning, lines, samples)
        }

        public init(_ camera: FrameletCamera) {
            self.init(midTime: camera.state.t, rotationDegrees: camera.rotationDegrees, firstRow: camera.firstRow, firstColumn: camera.firstColumn,
                      binning: camera.binning, lines: camera.lines, samples: camera.samples)
        }
    }

    /// Zero-mean priors (1σ) on the unknowns.
    public struct Priors: Sendable, Equatable {
        public var timeOffsetSeconds = 5.0
        public var attitudeBiasRadians = 0.05 * Double.pi / 180
        public var attitudeBiasRateRadiansPerSecond = 0.002 * Double.pi / 180
        public init() {}
    }

    public let trajectory: Trajectory
    public let camera: CameraModel
    public let framelets: [Framelet]
    public var priors = Priors()
    /// Unit axes in the instrument frame: along track (roll is about it) and across track (pitch).
    public let alongTrack: Vector3
    public let acrossTrack: Vector3
    /// Gauss–Newton iterations per robust round, and rounds of outlier rejection.
    public var iterations = 6
    public var rejectionRounds = 4

    public init(trajectory: Trajectory, camera: CameraModel, framelets: [Framelet]) {
        (self.trajectory, self.camera, self.framelets) = (trajectory, camera, framelets)
        let middle = framelets.isEmpty ? 0 : framelets.map(\.midTime).sorted()[framelets.count / 2]
        let state = trajectory.state(at: middle)
        let v = state.attitude.conjugate.rotate(state.velocity)
        let flat = Vector3(v.x, v.y, 0)
        alongTrack = flat.length > 0 ? flat / flat.length : Vector3(0, 1, 0)
        acrossTrack = Vector3(0, 0, 1).cross(alongTrack)
    }

    /// A solution.
    public struct Solution: Sendable {
        public var correction: GeometryCorrection
        /// The unknowns' covariance (order: Δt, roll[, roll rate, pitch rate]), s and rad.
        public var covariance: [[Double]]
        public var withRate: Bool
        /// Ties kept (after outlier rejection) and dropped.
        public var kept: [Tie]
        public var rejected: Int
        /// Residuals (samples) of the kept ties before and after the correction.
        public var residualsBefore: [Double]
        public var residualsAfter: [Double]
        /// σ̂ of a tie, samples.
        public var sigma: Double

        public var timeOffsetSigma: Double { covariance[0][0].squareRoot() }
        /// 1σ of the roll, rad.
        public var rollSigma: Double { covariance[1][1].squareRoot() }
        /// 1σ of the roll and pitch rates, rad/s.
        public var rateSigma: (roll: Double, pitch: Double)? { withRate ? (covariance[2][2].squareRoot(), covariance[3][3].squareRoot()) : nil }
        public static func rms(_ r: [Double]) -> Double { r.isEmpty ? 0 : (r.map { $0 * $0 }.reduce(0, +) / Double(r.count)).squareRoot() }
        public static func median(_ r: [Double]) -> Double { r.isEmpty ? 0 : r.sorted()[r.count / 2] }
    }

    /// The correction from the unknowns.
    func correction(_ p: [Double], epoch: Double) -> GeometryCorrection {
        GeometryCorrection(
            timeOffsetSeconds: p[0], attitudeBias: p[1] * alongTrack,
            attitudeBiasRate: p.count > 2 ? p[2] * alongTrack + p[3] * acrossTrack : Vector3(0, 0, 0), epoch: epoch)
    }

    /// The unknowns of a correction (its roll, and rates, on this solver's axes).
    func unknowns(_ c: GeometryCorrection, withRate: Bool) -> [Double] {
        [c.timeOffsetSeconds, c.attitudeBias.dot(alongTrack)] + (withRate ? [c.attitudeBiasRate.dot(alongTrack), c.attitudeBiasRate.dot(acrossTrack)] : [])
    }

    /// Where `tie`'s ground point is seen with `correction`, minus where it was seen (samples).
    public func residual(_ tie: Tie, _ correction: GeometryCorrection) -> (Double, Double)? {
        let f = framelets[tie.framelet]
        let view = FrameletCamera(
            state: correction.state(trajectory, at: f.midTime), camera: camera, rotationDegrees: f.rotationDegrees,
            firstRow: f.firstRow, firstColumn: f.firstColumn, binning: f.binning, lines: f.lines, samples: f.samples)
        guard let seen = view.sampleCoordinates(of: tie.ground) else { return nil }
        return (seen.sample - tie.sample, seen.line - tie.line)
    }

    /// Solves from `ties`; nil when fewer than three ties can be evaluated.
    public func solve(_ ties: [Tie], withRate: Bool = false) -> Solution? {
        let epoch = framelets.isEmpty ? 0 : (framelets.map(\.midTime).min()! + framelets.map(\.midTime).max()!) / 2
        let count = withRate ? 4 : 2
        let priorSigma = [priors.timeOffsetSeconds, priors.attitudeBiasRadians,
                          priors.attitudeBiasRateRadiansPerSecond, priors.attitudeBiasRateRadiansPerSecond].prefix(count)
        // Steps for the numerical derivatives: small against any plausible error.
        let steps = Self.steps.prefix(count)
        var kept = ties.filter { residual($0, .none) != nil }
        guard kept.count >= 3 else { return nil }
        var p = [Double](repeating: 0, count: count)
        var sigma = 1.0
        var rejected = 0
        var normal = [[Double]](repeating: [Double](repeating: 0, count: count), count: count)
        for round in 0..<rejectionRounds {
            for _ in 0..<iterations {
                var n = [[Double]](repeating: [Double](repeating: 0, count: count), count: count)
                var g = [Double](repeating: 0, count: count)
                let base = correction(p, epoch: epoch)
                let perturbed = (0..<count).map { k -> GeometryCorrection in
                    var q = p
                    q[k] += steps[k]
                    return correction(q, epoch: epoch)
                }
                let weight = 1 / (sigma * sigma)
                for tie in kept {
                    guard let r0 = residual(tie, base) else { continue }
                    var jx = [Double](repeating: 0, count: count), jy = jx
                    for k in 0..<count {
                        guard let r = residual(tie, perturbed[k]) else { continue }
                        jx[k] = (r.0 - r0.0) / steps[k]
                        jy[k] = (r.1 - r0.1) / steps[k]
                    }
                    for a in 0..<count {
                        g[a] -= weight * (jx[a] * r0.0 + jy[a] * r0.1)
                        for b in 0..<count { n[a][b] += weight * (jx[a] * jx[b] + jy[a] * jy[b]) }
                    }
                }
                for k in 0..<count {
                    let s = priorSigma[priorSigma.startIndex + k]
                    n[k][k] += 1 / (s * s)
                    g[k] -= p[k] / (s * s)
                }
                normal = n
                guard let delta = Self.solveLinear(n, g) else { return nil }
                for k in 0..<count { p[k] += delta[k] }
                if zip(delta, steps).allSatisfy({ abs($0) < $1 * 1e-3 }) { break }
            }
            // Robust scale, then drop what lies beyond 4σ (never below a hundredth of a sample).
            let fitted = correction(p, epoch: epoch)
            let lengths = kept.map { tie -> Double in
                guard let r = residual(tie, fitted) else { return .infinity }
                return (r.0 * r.0 + r.1 * r.1).squareRoot()
            }
            let mad = Solution.median(lengths)
            // The median of a 2-D residual's length is ≈ 1.18 σ of each component; 3.5 medians ≈ 4 σ.
            sigma = max(0.01, mad / 1.1774)
            let limit = max(0.02, 3.5 * mad)
            let survivors = zip(kept, lengths).filter { $0.1 <= limit }.map(\.0)
            rejected += kept.count - survivors.count
            if survivors.count == kept.count || survivors.count < 3 || round == rejectionRounds - 1 { break }
            kept = survivors
        }
        guard let inverse = Self.invert(normal) else { return nil }
        let fitted = correction(p, epoch: epoch)
        func lengths(_ c: GeometryCorrection) -> [Double] {
            kept.compactMap { residual($0, c) }.map { ($0.0 * $0.0 + $0.1 * $0.1).squareRoot() }
        }
        return Solution(
            correction: fitted, covariance: inverse, withRate: withRate, kept: kept, rejected: rejected,
            residualsBefore: lengths(.none), residualsAfter: lengths(fitted), sigma: sigma)
    }

    /// Steps of the numerical derivatives: Δt, roll, roll rate, pitch rate.
    static let steps = [1e-3, 1e-7, 1e-8, 1e-8]

    /// Gaussian elimination with partial pivoting; nil when singular.
    static func solveLinear(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        let n = b.count
        var m = a, v = b
        for col in 0..<n {
            guard let pivot = (col..<n).max(by: { abs(m[$0][col]) < abs(m[$1][col]) }), abs(m[pivot][col]) > 1e-300 else { return nil }
            m.swapAt(col, pivot); v.swapAt(col, pivot)
            for row in (col + 1)..<n where m[row][col] != 0 {
                let f = m[row][col] / m[col][col]
                for k in col..<n { m[row][k] -= f * m[col][k] }
                v[row] -= f * v[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for row in stride(from: n - 1, through: 0, by: -1) {
            var s = v[row]
            for k in (row + 1)..<n { s -= m[row][k] * x[k] }
            x[row] = s / m[row][row]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }

    static func invert(_ a: [[Double]]) -> [[Double]]? {
        let n = a.count
        var columns: [[Double]] = []
        for k in 0..<n {
            var e = [Double](repeating: 0, count: n)
            e[k] = 1
            guard let c = solveLinear(a, e) else { return nil }
            columns.append(c)
        }
        return (0..<n).map { i in (0..<n).map { j in columns[j][i] } }
    }
}
