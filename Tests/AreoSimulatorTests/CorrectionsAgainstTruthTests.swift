import AreoGeometry
import AreoProcessing
import AreoRadiometry
import AreoSimulator
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

/// The CaSSIS corrections against the simulator's truth (`--terrain`: relief of ±3 km under a
/// global coarse and a local fine shape model, 10° off nadir, mechanism offsets drifting between
/// observations, straylight with a random ε in some geometries).
@Suite struct CorrectionsAgainstTruthTests {
    static let estimates = Estimates()

    /// Each observation's estimate, made once and shared by the tests.
    actor Estimates {
        private var made: [Int: Task<CorrectionEstimate, any Error>] = [:]
        func of(_ observation: Int, mission: MissionFiles, processor: ObservationProcessor) async throws -> CorrectionEstimate {
            let task = made[observation] ?? Task {
                try await processor.estimateCorrections(framelets: mission.framelets(observation: UInt32(observation)), payload: mission.payloads)
            }
            made[observation] = task
            return try await task.value
        }
    }

    static func setting() async throws -> (URL, MissionFiles, SimulatedMission.TerrainTruth, Terrain) {
        let directory = try await SimulatedMission.terrain()
        let mission = try MissionFiles(directory: directory)
        return (directory, mission, try SimulatedMission.terrainTruth(directory), Terrain(models: try mission.shapeModels()))
    }

    /// Offsets up to 0.3° are found within 0.01° where the bands' texture pins them (σ ≤ 0.007°:
    /// on this 256-pixel detector 0.01° moves the outer bands by only 0.02 pixel against each other,
    /// so an observation with faint texture — the polar one — is weaker, and is held to its own
    /// stated uncertainty instead), and the colour fringing left is ≤ 0.25 pixel.
    @Test func mechanismOffsetsAreEstimatedWithinAHundredthOfADegree() async throws {
        let (_, mission, truth, terrain) = try await Self.setting()
        let processor = try mission.processor(kernel: "reconstructed", terrain: terrain)
        #expect(truth.terrain.mechanism_offsets_deg.count >= 3)
        var pinned = 0
        for (id, offset) in truth.terrain.mechanism_offsets_deg.sorted(by: { $0.key < $1.key }) {
            let estimate = try await Self.estimates.of(Int(id)!, mission: mission, processor: processor)
            let m = estimate.mechanism
            print(String(format: "observation %@: offset %+.4f° (truth %+.4f°) ± %.4f°, fringing %.3f → %.3f px", id, m.offsetDegrees, offset,
                         m.uncertaintyDegrees ?? .nan, m.fringingBefore ?? .nan, m.fringingAfter ?? .nan))
            let sigma = try #require(m.uncertaintyDegrees)
            if sigma <= 0.007 {
                #expect(abs(m.offsetDegrees - offset) <= 0.01, "observation \(id)")
                pinned += 1
            } else {
                #expect(abs(m.offsetDegrees - offset) <= 3 * sigma, "observation \(id): within its own uncertainty")
            }
            #expect((m.fringingAfter ?? 9) <= 0.25, "observation \(id)")
        }
        #expect(pinned >= 2, "at least two observations pin the offset")
    }

    /// With the shape models and the reconstructed kernel the product lands within 0.25 pixel and
    /// 1 % of the truth; on the ellipsoid (printed beside) tens of pixels away.
    @Test func orthorectifiedProductsMatchTheTruth() async throws {
        let (directory, mission, truth, terrain) = try await Self.setting()
        let fine = try #require(truth.terrain.fine_model_observation)
        let processor = try mission.processor(kernel: "reconstructed", terrain: terrain)
        let estimate = try await Self.estimates.of(fine, mission: mission, processor: processor)
        var checked = 0
        for map in truth.truth_maps where map.observation_id == fine && (map.band == "PAN" || map.band == "RED") {
            let good = try await ProductsAgainstTruthTests.compare(processor: processor.with(estimate.corrections), map: map, mission: mission, directory: directory)
            let flat = try await ProductsAgainstTruthTests.compare(
                processor: try mission.processor(kernel: "reconstructed", corrections: estimate.corrections), map: map, mission: mission, directory: directory)
            print(String(format: "observation %d %@ on the shape models: I/F error %.2f %%, offset %.3f px; on the ellipsoid: %.2f %%, offset %.1f px",
                         map.observation_id, map.band, good.medianRelativeError * 100, good.offset, flat.medianRelativeError * 100, flat.offset))
            #expect(good.pixels > 1000)
            #expect(good.medianRelativeError <= 0.01)
            #expect(good.offset <= 0.25)
            #expect(flat.offset > 10 * max(good.offset, 0.25), "the terrain moves the ground by tens of pixels")
            checked += 1
        }
        #expect(checked == 2)
    }

    /// The observation exposed to straylight ends within 1 % of the truth (without removal,
    /// printed: several %); unexposed ones are left exactly as they are.
    @Test func straylightIsRemovedToOnePercent() async throws {
        let (directory, mission, truth, terrain) = try await Self.setting()
        let processor = try mission.processor(kernel: "reconstructed", terrain: terrain)
        var withoutStraylight = mission.calibration
        for band in withoutStraylight.arrays.keys { withoutStraylight.arrays[band]?.straylight = nil }
        #expect(!truth.terrain.straylight_epsilon.isEmpty)
        for (id, epsilon) in truth.terrain.straylight_epsilon {
            let estimate = try await Self.estimates.of(Int(id)!, mission: mission, processor: processor)
            print(String(format: "observation %@: ε %+.3f (truth %+.3f) ± %.3f over %d cells, %d framelets exposed, %.1f %% of the signal removed",
                         id, estimate.straylight.epsilon ?? .nan, epsilon, estimate.straylight.uncertainty ?? .nan, estimate.straylight.points,
                         estimate.straylight.exposedFramelets, estimate.straylight.removedFraction * 100))
            #expect(estimate.straylight.exposedFramelets > 0)
            for map in truth.truth_maps where map.observation_id == Int(id)! && map.band == "PAN" {
                let removed = try await ProductsAgainstTruthTests.compare(processor: processor.with(estimate.corrections), map: map, mission: mission, directory: directory)
                let left = try await ProductsAgainstTruthTests.compare(
                    processor: ObservationProcessor(instrument: mission.instrument, kernel: try mission.kernel("reconstructed"), calibration: withoutStraylight,
                                                    terrain: terrain, corrections: estimate.corrections),
                    map: map, mission: mission, directory: directory)
                print(String(format: "  %@: I/F error %.2f %% with straylight removed, %.2f %% without", map.band, removed.medianRelativeError * 100, left.medianRelativeError * 100))
                #expect(removed.medianRelativeError <= 0.01)
                #expect(left.medianRelativeError > 2 * removed.medianRelativeError)
            }
        }
        // Unexposed: nothing to estimate, nothing removed (the product is the one made without straylight arrays).
        for (id, _) in truth.terrain.mechanism_offsets_deg where truth.terrain.straylight_epsilon[id] == nil {
            let estimate = try await Self.estimates.of(Int(id)!, mission: mission, processor: processor)
            #expect(estimate.straylight.exposedFramelets == 0 && estimate.corrections.straylightEpsilon == nil)
            let framelets = mission.framelets(observation: UInt32(id)!)
            let request = try ProductRequest(observationID: Int(id)!, kind: .projected, bands: [.pan], scale: 40, format: .dat)
            let a = try await processor.with(estimate.corrections).render(request, framelets: framelets, payload: mission.payloads)
            let b = try await ObservationProcessor(instrument: mission.instrument, kernel: try mission.kernel("reconstructed"), calibration: withoutStraylight,
                                                   terrain: terrain, corrections: estimate.corrections).render(request, framelets: framelets, payload: mission.payloads)
            #expect(a.raster.bands[0].elementsEqual(b.raster.bands[0]) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "observation \(id) unchanged")
        }
    }
}
