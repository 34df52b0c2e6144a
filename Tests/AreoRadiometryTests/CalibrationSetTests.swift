import AreoRadiometry
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

@Suite struct CalibrationSetTests {
    static var sampleSet: URL { TestDatabase.samplesDirectory.appendingPathComponent("tiny-clean/calibration/cal-0001") }

    @Test func sampleSetLoads() throws {
        let set = try CalibrationSet.load(directory: Self.sampleSet)
        #expect(set.description.calibrationID == "cal-0001")
        #expect(set.arrays.count == 4)
        let pan = try #require(set.arrays[.pan])
        #expect(pan.bias.count == 256 * 256 && pan.flat.count == 256 * 256 && pan.bad.count == 256 * 256)
        let goodFlats = pan.flat.indices.filter { pan.bad[$0] == 0 }.map { pan.flat[$0] }
        #expect(goodFlats.allSatisfy { $0 > 0.5 && $0 < 1.5 })
        #expect(pan.bad.contains(1))
    }

    @Test func brokenSetsNameTheFileAndRule() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("areo-cal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.sampleSet.path) {
            try FileManager.default.copyItem(at: Self.sampleSet.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        let truncated = dir.appendingPathComponent("nir_flat.f32")
        try Data(try Data(contentsOf: truncated).prefix(1000)).write(to: truncated)
        let error = #expect(throws: TelemetryError.self) { try CalibrationSet.load(directory: dir) }
        #expect(error?.file == truncated.path)
        #expect(error?.rule.contains("262144") == true)

        try FileManager.default.removeItem(at: dir.appendingPathComponent("calibration.json"))
        let missing = #expect(throws: TelemetryError.self) { try CalibrationSet.load(directory: dir) }
        #expect(missing?.rule.contains("calibration.json is missing") == true)
    }
}
