import AreoRadiometry
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

/// Straylight in a calibration set written by hand from the ICD's text (§9): a 16 × 8 detector,
/// one band, the pattern and the table as the ICD spells them.
@Suite struct StraylightTests {
    static let (rows, cols) = (8, 16)

    /// Writes the set; `table` and `pattern` as JSON text and values (nil: left out).
    static func write(table: String?, pattern: [Float]?, patternBytes: Int? = nil) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("areo-stray-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func floats(_ values: [Float]) -> Data {
            var data = Data()
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            return data
        }
        let n = rows * cols
        try floats([Float](repeating: 100, count: n)).write(to: dir.appendingPathComponent("b.f32"))
        try floats((0..<n).map { 0.9 + 0.2 * Float($0 % cols) / Float(cols) }).write(to: dir.appendingPathComponent("f.f32"))
        try Data(count: n).write(to: dir.appendingPathComponent("bad.u8"))
        var stray = ""
        if let pattern {
            var bytes = floats(pattern)
            if let patternBytes { bytes = bytes.prefix(patternBytes) }
            try bytes.write(to: dir.appendingPathComponent("s.f32"))
            stray = #", "straylight": "s.f32""#
        }
        let amplitude = table.map { #", "straylight_amplitude": \#($0)"# } ?? ""
        let json = """
            {"calibration_id": "cal-stray", "produced": "2026-10-01T00:00:00Z", "applies_from_sclk": 0, "detector": {"rows": \(rows), "cols": \(cols)},
             "bands": {"PAN": {"bias": "b.f32", "flat": "f.f32", "bad_pixels": "bad.u8", "radiance_per_dn_per_s": 0.00002, "solar_irradiance_1au": 1500.0\(stray)\(amplitude)}}}
            """
        try Data(json.utf8).write(to: dir.appendingPathComponent("calibration.json"))
        return dir
    }

    static var pattern: [Float] { (0..<(rows * cols)).map { 0.5 + Float($0 / cols) * 0.1 } }

    @Test func theAmplitudeTableIsLinearBetweenEntriesAndZeroOutside() throws {
        let dir = try Self.write(table: "[[10, 0], [20, 1000], [30, 1000], [40, 0]]", pattern: Self.pattern)
        defer { try? FileManager.default.removeItem(at: dir) }
        let band = try #require(try CalibrationSet.load(directory: dir).description.bands["PAN"])
        #expect(band.expectedStraylight(alphaDegrees: 5) == 0)
        #expect(band.expectedStraylight(alphaDegrees: 15) == 500)
        #expect(band.expectedStraylight(alphaDegrees: 25) == 1000)
        #expect(band.expectedStraylight(alphaDegrees: 37.5) == 250)
        #expect(band.expectedStraylight(alphaDegrees: 41) == 0)
        #expect(band.expectedStraylight(alphaDegrees: .nan) == 0)
    }

    /// The ICD's forward model with straylight, `DN = bias + flat·S + A(1+ε)·P·t_exp`, is undone
    /// exactly when the same amplitude is removed (binned 2 × 2: P is the bin's mean, like bias).
    @Test func removingTheAmplitudeRecoversTheSignal() throws {
        let dir = try Self.write(table: "[[0, 0], [180, 0]]", pattern: Self.pattern)
        defer { try? FileManager.default.removeItem(at: dir) }
        let set = try CalibrationSet.load(directory: dir)
        let arrays = try #require(set.arrays[.pan])
        let (amplitude, tExp, iof, d) = (300_000.0, 0.0015, 0.2, 1.5)
        for binning in [1, 2] {
            let (lines, samples) = (Self.rows / binning, Self.cols / binning)
            var dn: [UInt16] = []
            var signalDN = [Double](repeating: 0, count: lines * samples)
            for r in 0..<lines {
                for c in 0..<samples {
                    var sum = 0.0
                    for dy in 0..<binning {
                        for dx in 0..<binning {
                            let k = (r * binning + dy) * Self.cols + c * binning + dx
                            let signal = iof * 1500 * tExp / (Double.pi * d * d * 0.00002)
                            sum += Double(arrays.bias[k]) + Double(arrays.flat[k]) * signal + amplitude * Double(arrays.straylight![k]) * tExp
                        }
                    }
                    dn.append(UInt16((sum / Double(binning * binning)).rounded()))
                    signalDN[r * samples + c] = sum
                }
            }
            let header = FragmentHeader(
                observationID: 1, frameletIndex: 0, band: .pan, compression: .none, exposureStart: SpacecraftClock(seconds: 0),
                exposureDurationMicroseconds: 1500, windowFirstRow: 0, windowRows: UInt16(Self.rows), windowFirstColumn: 0, windowColumns: UInt16(Self.cols),
                bitsPerSample: 14, binning: UInt8(binning), rotationAngleCentidegrees: 0, frameletsPlannedPerBand: 1, payloadLength: 0, payloadCRC: 0,
                detectorTemperatureCentidegrees: 0)
            let calibrator = RadiometricCalibrator(set: set)
            let removed = try calibrator.calibrate(dn: dn, header: header, sunDistanceAU: d, straylight: amplitude, keepStraylight: true)
            let left = try calibrator.calibrate(dn: dn, header: header, sunDistanceAU: d)
            // Within DN rounding (about 2·10⁻⁴ of the signal here).
            #expect(removed.iof.allSatisfy { abs(Double($0) - iof) / iof < 0.002 }, "binning \(binning)")
            #expect(left.iof.allSatisfy { Double($0) > iof * 1.05 }, "without removal the straylight shows")
            #expect(removed.straylightRemoved > 0.01 && left.straylightRemoved == 0)
            // The unit-amplitude I/F kept for the estimator times the amplitude is what was removed.
            let unit = try #require(removed.straylightIoF)
            #expect(zip(left.iof, removed.iof).enumerated().allSatisfy { k, pair in abs(Double(pair.0 - pair.1) - Double(unit[k]) * amplitude) < 1e-3 })
        }
    }

    @Test(arguments: [
        ("[[10, 0], [5, 1]]", "increase"),
        ("[[10, -1]]", "A ≥ 0"),
        ("[[200, 1]]", "0…180"),
        ("[[10]]", "[α in 0…180°, A ≥ 0]"),
        ("[]", "1…10 000"),
    ])
    func brokenTablesAreRefusedNamingTheRule(table: String, rule: String) throws {
        let dir = try Self.write(table: table, pattern: Self.pattern)
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: TelemetryError.self) { try CalibrationSet.load(directory: dir) }
        #expect(error?.rule.contains(rule) == true, "\(error?.rule ?? "")")
        #expect(error?.file?.hasSuffix("calibration.json") == true)
    }

    @Test func brokenPatternsAreRefusedNamingTheFile() throws {
        for (pattern, bytes, rule) in [(Self.pattern, 100, "bytes"), ([Float](repeating: -1, count: Self.rows * Self.cols), nil, "≥ 0")] as [([Float], Int?, String)] {
            let dir = try Self.write(table: "[[0, 1], [10, 1]]", pattern: pattern, patternBytes: bytes)
            defer { try? FileManager.default.removeItem(at: dir) }
            let error = #expect(throws: TelemetryError.self) { try CalibrationSet.load(directory: dir) }
            #expect(error?.file?.hasSuffix("s.f32") == true && error?.rule.contains(rule) == true, "\(error?.description ?? "")")
        }
        let dir = try Self.write(table: "[[0, 1], [10, 1]]", pattern: nil)
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: TelemetryError.self) { try CalibrationSet.load(directory: dir) }
        #expect(error?.rule.contains("without a straylight pattern") == true)
    }
}
