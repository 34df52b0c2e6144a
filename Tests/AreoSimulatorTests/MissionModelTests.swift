import AreoGeometry
import AreoSimulator
import AreoTelemetry
import Foundation
import Testing

/// The simulator's model is the one the issue asks for: orbit, Sun, attitude, instruments,
/// planning.
@Suite struct MissionModelTests {
    @Test(arguments: [1, 7, 42, 1234] as [UInt64])
    func orbitSunAndAttitude(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let geometry = MissionGeometry(epoch: 830_000_000, random: &random)
        #expect(geometry.sunDistanceAU >= 1.38 && geometry.sunDistanceAU <= 1.67)
        var highest = 0.0
        for k in 0..<200 {
            let t = 830_000_000 + geometry.period * Double(k) / 200
            let state = geometry.state(at: t)
            #expect(abs(state.position.length - (3396.19 + 400)) < 1e-6)
            highest = max(highest, abs(PlanetocentricCoordinates(state.position).latitude))
            // +Z (the boresight at rotation 0) points at Mars' centre; +Y along the ground track.
            let boresight = state.attitude.rotate(Vector3(0, 0, 1))
            #expect((boresight + state.position.normalized).length < 1e-9)
            #expect(state.attitude.rotate(Vector3(0, 1, 0)).dot(state.velocity) > 0)
        }
        #expect(abs(highest - 74) < 0.5, "ground track reaches \(highest)°")
        #expect(abs(geometry.period - 2 * .pi * (3796.19 * 3796.19 * 3796.19 / MissionGeometry.gm).squareRoot()) < 1e-9)
    }

    @Test func instrumentsAreTheIssuesOnes() throws {
        let cassis = InstrumentPreset.cassis.description
        #expect(cassis.detector.rows == 2048 && cassis.detector.cols == 2048 && cassis.detector.pixelPitchMM == 0.01)
        let metresPerPixel = 400_000 * cassis.detector.pixelPitchMM / cassis.detector.focalLengthMM
        #expect(abs(metresPerPixel - 4.5) < 0.1)
        #expect(cassis.bands.count == 4 && cassis.bands.allSatisfy { (256...280).contains($0.window.rows) })
        #expect(InstrumentPreset.cassis.exposures == 40)
        let tiny = InstrumentPreset.tiny.description
        #expect(tiny.detector.rows == 256 && tiny.bands.allSatisfy { $0.window.rows == 32 })
        for preset in InstrumentPreset.allCases {
            let data = try JSONEncoder().encode(preset.description)
            #expect(try InstrumentDescription.parse(data, file: preset.rawValue).violations.isEmpty)
        }
    }

    @Test func quaternionFromAFrameRotatesTheAxesOntoIt() {
        let z = Vector3(0.3, -0.2, 0.9).normalized
        let y = (Vector3(0, 1, 0) - Vector3(0, 1, 0).dot(z) * z).normalized
        let x = y.cross(z)
        let q = Quaternion(columns: x, y, z)
        #expect((q.rotate(Vector3(1, 0, 0)) - x).length < 1e-12)
        #expect((q.rotate(Vector3(0, 1, 0)) - y).length < 1e-12)
        #expect((q.rotate(Vector3(0, 0, 1)) - z).length < 1e-12)
    }

    /// Planned observations: sunlit, one poleward of 65°, a 180° rotation among them.
    @Test func plansCoverTheSunlitSideThePoleAndRotation() async throws {
        let directory = try await SimulatedMission.make()
        let truth = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("truth.json"))) as? [String: Any]
        let observations = try #require(truth?["observations"] as? [[String: Any]])
        #expect(observations.count == 3)
        #expect(observations.contains { abs($0["centre_latitude"] as? Double ?? 0) > 65 })
        #expect(observations.contains { ($0["rotation_deg"] as? Double) == 180 })
        let plans = try ObservationPlan.parseLines(Data(contentsOf: directory.appendingPathComponent("mission.plan.jsonl")), file: "mission.plan.jsonl")
        #expect(plans.map(\.compression) == ["ccsds121", "none", "jpeg"])
        #expect(plans.allSatisfy { $0.exposures == 12 && $0.bands.count == 4 })
    }
}
