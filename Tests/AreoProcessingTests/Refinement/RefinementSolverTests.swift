import AreoTestSupport
import AreoGeometry
import AreoProcessing
import AreoTelemetry
import Foundation
import Testing

/// The refinement solver on synthetic correspondences with a known answer: tie points made by
/// seeing the ellipsoid through tiny-terrain's framelets with a known correction of its predicted
/// kernel, then solved from the uncorrected kernel.
@Suite struct RefinementSolverTests {
    struct Scene {
        var solver: RefinementSolver
        var cameras: [FrameletCamera]
        var processor: ObservationProcessor
    }

    static func scene() throws -> Scene {
        let mission = try TinyTerrainTests.mission.get()
        let processor = try mission.processor(kernel: "predicted")
        let framelets = mission.framelets(observation: UInt32(TinyTerrainTests.observation)).filter { $0.header.band == .pan }
            .sorted { $0.header.frameletIndex < $1.header.frameletIndex }
        let cameras = framelets.map { processor.camera(for: $0) }
        return Scene(solver: RefinementSolver(trajectory: processor.trajectory, camera: processor.camera, framelets: cameras.map(RefinementSolver.Framelet.init)),
                     cameras: cameras, processor: processor)
    }

    /// Ties seen with `truth`: a 5 × 3 grid of samples in every framelet, `noise` samples of
    /// Gaussian noise on the detector position, and every `outlierEvery`-th tie 6 samples off.
    static func ties(_ scene: Scene, truth: GeometryCorrection, noise: Double = 0, outlierEvery: Int? = nil, seed: UInt64 = 7) -> [RefinementSolver.Tie] {
        var random = SplitMix(seed)
        var ties: [RefinementSolver.Tie] = []
        for (index, base) in scene.cameras.enumerated() {
            let corrected = FrameletCamera(
                state: truth.state(scene.processor.trajectory, at: base.state.t), camera: base.camera, rotationDegrees: base.rotationDegrees,
                firstRow: base.firstRow, firstColumn: base.firstColumn, binning: base.binning, lines: base.lines, samples: base.samples)
            for i in 0..<5 {
                for j in 0..<3 {
                    let c = Double(i) / 4 * Double(base.samples - 1), r = Double(j) / 2 * Double(base.lines - 1)
                    guard let ground = corrected.ground(sample: c, line: r) else { continue }
                    var (dc, dr) = (noise * random.gaussian(), noise * random.gaussian())
                    if let every = outlierEvery, ties.count % every == every - 1 { (dc, dr) = (6 * (random.uniform() - 0.5) * 2, 6) }
                    ties.append(.init(framelet: index, sample: c + dc, line: r + dr, ground: ground, control: "synthetic"))
                }
            }
        }
        return ties
    }

    static let degree = Double.pi / 180

    @Test func recoversAKnownCorrectionExactlyWithoutNoise() throws {
        let scene = try Self.scene()
        // Δt and a roll (about the along-track axis: the ground moves across track).
        let truth = GeometryCorrection(timeOffsetSeconds: -0.3, attitudeBias: 0.012 * Self.degree * scene.solver.alongTrack)
        let ties = Self.ties(scene, truth: truth)
        let solution = try #require(scene.solver.solve(ties))
        print("noise-free:", solution.correction, "after", RefinementSolver.Solution.rms(solution.residualsAfter))
        #expect(RefinementSolver.Solution.rms(solution.residualsBefore) > 10)
        #expect(RefinementSolver.Solution.rms(solution.residualsAfter) < 0.02)
        #expect(solution.rejected == 0)
        #expect(abs(solution.correction.timeOffsetSeconds - truth.timeOffsetSeconds) < 0.002)
        #expect((solution.correction.attitudeBias - truth.attitudeBias).length < 1e-6)
    }

    @Test func noiseAndOutliersLeaveTheAnswerWithinItsUncertainty() throws {
        let scene = try Self.scene()
        // A roll and a pitch: the pitch moves the ground along track like a timing error, which takes it.
        let truth = GeometryCorrection(
            timeOffsetSeconds: 0.4, attitudeBias: -0.015 * Self.degree * scene.solver.alongTrack + 0.01 * Self.degree * scene.solver.acrossTrack)
        let clean = Self.ties(scene, truth: truth)
        let noisy = Self.ties(scene, truth: truth, noise: 0.2, outlierEvery: 10)
        let solution = try #require(scene.solver.solve(noisy))
        print("noisy:", solution.correction, "σ", solution.sigma, "rejected", solution.rejected, "of", noisy.count)
        // The outliers (a tenth, 6 samples off) are the ones rejected.
        #expect(solution.rejected >= noisy.count / 10 - 2 && solution.rejected <= noisy.count / 10 + 4)
        #expect(abs(solution.sigma - 0.2) < 0.06, "σ̂ \(solution.sigma) against the 0.2 sample noise")
        // Where the corrected geometry sees every clean tie's ground: within the noise's error of the mean.
        let errors = clean.compactMap { scene.solver.residual($0, solution.correction) }.map { ($0.0 * $0.0 + $0.1 * $0.1).squareRoot() }
        #expect(RefinementSolver.Solution.rms(errors) < 0.1, "\(RefinementSolver.Solution.rms(errors))")
        // The roll is determined: within 3σ of the truth.
        let roll = solution.correction.attitudeBias.dot(scene.solver.alongTrack)
        #expect(abs(roll - truth.attitudeBias.dot(scene.solver.alongTrack)) <= 3 * solution.rollSigma, "roll \(roll) σ \(solution.rollSigma)")
    }

    @Test func alongTrackPitchIsTakenAsTimingButTheGroundIsRight() throws {
        let scene = try Self.scene()
        // Pure pitch: the images cannot tell it from a timing error, which takes it; the ground is right.
        // A bias about an instrument axis is some of each.
        for axis in [scene.solver.acrossTrack, Vector3(1, 0, 0), Vector3(0, 1, 0)] {
            let truth = GeometryCorrection(timeOffsetSeconds: 0, attitudeBias: 0.03 * Self.degree * axis)
            let ties = Self.ties(scene, truth: truth)
            let solution = try #require(scene.solver.solve(ties))
            print("pitch about", axis, "→", solution.correction, "Δt σ", solution.timeOffsetSigma)
            #expect(RefinementSolver.Solution.rms(solution.residualsAfter) < 0.05)
        }
    }

    @Test func aBiasRateIsRecoveredWhenAsked() throws {
        let scene = try Self.scene()
        let along = scene.solver.alongTrack
        let truth = GeometryCorrection(timeOffsetSeconds: 0.1, attitudeBias: 0.01 * Self.degree * along, attitudeBiasRate: 0.0004 * Self.degree * along,
                                       epoch: (scene.cameras.first!.state.t + scene.cameras.last!.state.t) / 2)
        let ties = Self.ties(scene, truth: truth, noise: 0.05)
        let without = try #require(scene.solver.solve(ties)), with = try #require(scene.solver.solve(ties, withRate: true))
        print("rate:", with.correction.attitudeBiasRate, "σ", with.rateSigma as Any, "rms without", RefinementSolver.Solution.rms(without.residualsAfter), "with", RefinementSolver.Solution.rms(with.residualsAfter))
        #expect(RefinementSolver.Solution.rms(with.residualsAfter) < RefinementSolver.Solution.rms(without.residualsAfter))
        let sigma = try #require(with.rateSigma)
        #expect(abs(with.correction.attitudeBiasRate.dot(along) - truth.attitudeBiasRate.dot(along)) <= 3 * sigma.roll + 1e-9)
    }

    @Test func tooFewTiesSolveNothing() throws {
        let scene = try Self.scene()
        #expect(scene.solver.solve(Array(Self.ties(scene, truth: .none).prefix(2))) == nil)
    }
}

/// A small seeded generator for the synthetic ties.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func gaussian() -> Double {
        let u = max(uniform(), 1e-12), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
