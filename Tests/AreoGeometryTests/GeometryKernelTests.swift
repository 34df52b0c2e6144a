import AreoGeometry
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

@Suite struct GeometryKernelTests {
    @Test func sampleKernelsAreValid() throws {
        for name in ["predicted", "reconstructed"] {
            let url = TestDatabase.samplesDirectory.appendingPathComponent("tiny-faults/geometry/\(name).json")
            let kernel = try GeometryKernel.parse(Data(contentsOf: url), file: url.lastPathComponent)
            #expect(kernel.kind.rawValue == name)
            #expect(kernel.kind > .predicted || name == "predicted")
        }
    }

    @Test func invalidKernelsNameTheRule() throws {
        let url = TestDatabase.samplesDirectory.appendingPathComponent("tiny-faults/geometry/reconstructed.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        json["frame"] = "J2000"
        let error = #expect(throws: TelemetryError.self) {
            try GeometryKernel.parse(JSONSerialization.data(withJSONObject: json), file: "k.json")
        }
        #expect(error?.description == "k.json: ICD §7: frame must be MARS_FIXED, is 'J2000'")
        json["frame"] = "MARS_FIXED"
        json.removeValue(forKey: "clock")
        let missing = #expect(throws: TelemetryError.self) {
            try GeometryKernel.parse(JSONSerialization.data(withJSONObject: json), file: "k.json")
        }
        #expect(missing?.rule.contains("clock") == true)
    }
}

@Suite struct InstrumentDescriptionTests {
    @Test func sampleInstrumentIsValidAndBadOnesAreNamed() throws {
        let url = TestDatabase.samplesDirectory.appendingPathComponent("tiny-clean/instrument.json")
        let instrument = try InstrumentDescription.parse(Data(contentsOf: url), file: "instrument.json")
        #expect(instrument.detector.rows == 256 && instrument.bands.map(\.name) == ["PAN", "RED", "NIR", "BLU"])

        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var bands = try #require(json["bands"] as? [[String: Any]])
        bands[2]["window"] = ["first_row": 250, "rows": 32, "first_col": 0, "cols": 256]
        json["bands"] = bands
        let error = #expect(throws: TelemetryError.self) {
            try InstrumentDescription.parse(JSONSerialization.data(withJSONObject: json), file: "i.json")
        }
        #expect(error?.rule.contains("NIR window") == true)
    }
}
