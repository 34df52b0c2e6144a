import AreoTestSupport
import AreoGeometry
import AreoProcessing
import AreoRadiometry
import AreoTelemetry
import Foundation
import Testing

/// The independent producer's `tiny-terrain` mission (ICD §8, §9, §11), read without the
/// archive: its shape models, straylight and mechanism offset against its `truth.json`.
@Suite struct TinyTerrainTests {
    static let mission = Result { try MissionFiles("tiny-terrain") }
    static let observation = 5500

    /// `truth.json`'s value of `key` for the observation.
    static func truthValue(_ key: String) throws -> Double {
        let url = TestDatabase.samplesDirectory.appendingPathComponent("tiny-terrain/truth.json")
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let table = truth[key] as! [String: Any]
        return (table[String(observation)] as! NSNumber).doubleValue
    }

    @Test func estimatesTheMechanismOffsetAndStraylight() async throws {
        let mission = try Self.mission.get()
        let terrain = Terrain(models: try mission.shapeModels())
        let processor = try mission.processor(kernel: "reconstructed", terrain: terrain)
        let framelets = mission.framelets(observation: UInt32(Self.observation))
        let estimate = try await processor.estimateCorrections(framelets: framelets, payload: mission.payloads)
        let offset = try Self.truthValue("mechanism_offsets_deg"), epsilon = try Self.truthValue("straylight_epsilon")
        print("mechanism", estimate.mechanism, "truth", offset)
        print("straylight", estimate.straylight, "truth", epsilon)
        #expect(abs(estimate.mechanism.offsetDegrees - offset) <= 0.01)
        #expect(abs((estimate.straylight.epsilon ?? 9) - epsilon) <= 0.05)
    }
}
