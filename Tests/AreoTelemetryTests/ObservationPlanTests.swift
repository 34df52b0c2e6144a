import AreoTelemetry
import Foundation
import Testing

@Suite struct ObservationPlanTests {
    @Test func samplePlansParse() throws {
        let plans = try ObservationPlan.parseLines(Samples.file("tiny-faults", "plans.plan.jsonl"), file: "plans.plan.jsonl")
        #expect(plans.map(\.observationID) == [5400, 5401, 5402])
        #expect(plans.allSatisfy { $0.expectedFragments == 48 })
    }

    @Test func badLinesNameFileLineAndRule() {
        let text = """
            {"observation_id": 1, "start_sclk": 10.0, "exposures": 2, "interval_s": 0.5, "exposure_us": 100, "binning": 1, "bits_per_sample": 12, "compression": "none", "rotation_deg": 0, "bands": [{"band": "PAN", "first_row": 0, "rows": 4, "first_col": 0, "cols": 4}]}
            {"observation_id": 2, "start_sclk": 10.0, "exposures": 2, "interval_s": 0.5, "exposure_us": 100, "binning": 3, "bits_per_sample": 12, "compression": "none", "rotation_deg": 0, "bands": []}
            """
        #expect(throws: TelemetryError(.plan, "ICD §10: binning must be 1, 2 or 4", file: "p.jsonl", line: 2)) {
            try ObservationPlan.parseLines(Data(text.utf8), file: "p.jsonl")
        }
        let error = #expect(throws: TelemetryError.self) { try ObservationPlan.parseLines(Data("{not json".utf8), file: "x.jsonl") }
        #expect(error?.line == 1)
        #expect(error?.description.hasPrefix("x.jsonl:1") == true)
    }

    @Test func housekeepingDecodesAndChecksLimits() throws {
        let dictionary = try HousekeepingDictionary.decode(
            Data(contentsOf: Samples.root.deletingLastPathComponent().appendingPathComponent("icd/hk-dictionary.json")))
        let fpa = try #require(dictionary.channel(id: 1))
        #expect(fpa.engineering(raw: 20000) == 0)
        #expect(fpa.limitLevel(of: 0) == nil)
        #expect(fpa.limitLevel(of: 15) == .yellow)
        #expect(fpa.limitLevel(of: 25) == .red)
        let samples = try HousekeepingSample.decode(userData: [0, 2, 0, 1, 0x4E, 0x20, 0, 3, 0x6D, 0x60][...])
        #expect(samples == [.init(channelID: 1, raw: 20000), .init(channelID: 3, raw: 28000)])
        #expect(throws: TelemetryError.self) { try HousekeepingSample.decode(userData: [0, 2, 0, 1][...]) }
    }
}
