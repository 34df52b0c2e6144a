import AreoRadiometry
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

/// Calibration inverts the ICD §9 forward model exactly (up to DN rounding), with binning, bad
/// pixels and saturation handled as the ICD says.
@Suite struct RadiometricCalibrationTests {
    static func header(band: Band, firstRow: Int, rows: Int, cols: Int, binning: Int, bits: Int = 14, exposureUS: UInt32 = 1500) -> FragmentHeader {
        FragmentHeader(
            observationID: 1, frameletIndex: 0, band: band, compression: .none, exposureStart: SpacecraftClock(coarse: 1, fine: 0),
            exposureDurationMicroseconds: exposureUS, windowFirstRow: UInt16(firstRow), windowRows: UInt16(rows), windowFirstColumn: 0,
            windowColumns: UInt16(cols), bitsPerSample: UInt8(bits), binning: UInt8(binning), rotationAngleCentidegrees: 0,
            frameletsPlannedPerBand: 1, payloadLength: 0, payloadCRC: 0, detectorTemperatureCentidegrees: 0)
    }

    @Test(arguments: [1, 2])
    func calibrationInvertsTheForwardModel(binning: Int) throws {
        let set = try CalibrationSet.load(directory: CalibrationSetTests.sampleSet)
        let band = Band.red
        let arrays = try #require(set.arrays[band]), coefficients = try #require(set.description.bands["RED"])
        let cols = set.description.detector.cols, firstRow = 84, rows = 32
        let header = Self.header(band: band, firstRow: firstRow, rows: rows, cols: cols, binning: binning)
        let d = 1.52, tExp = 1500e-6
        // Forward model of ICD §9 with a known I/F per sample; bias and flat averaged over bins.
        var dn: [UInt16] = [], truth: [Double] = [], badBins: Set<Int> = []
        for r in 0..<header.lines {
            for c in 0..<header.samples {
                var bias = 0.0, flat = 0.0
                for dy in 0..<binning {
                    for dx in 0..<binning {
                        let k = (firstRow + r * binning + dy) * cols + c * binning + dx
                        bias += Double(arrays.bias[k]); flat += Double(arrays.flat[k])
                        if arrays.bad[k] != 0 { badBins.insert(r * header.samples + c) }
                    }
                }
                bias /= Double(binning * binning); flat /= Double(binning * binning)
                let iof = 0.15 + 0.1 * sin(Double(c) / 9) * cos(Double(r) / 5)
                truth.append(iof)
                let signal = iof * coefficients.solarIrradiance1AU * tExp / (Double.pi * d * d * coefficients.radiancePerDNPerSecond)
                dn.append(UInt16(min(16383, max(0, (bias + flat * signal).rounded()))))
            }
        }
        dn[5] = 16383  // one saturated sample
        let result = try RadiometricCalibrator(set: set).calibrate(dn: dn, header: header, sunDistanceAU: d)
        #expect(result.saturatedCount == 1 && result.flags[5].contains(.saturated))
        #expect(result.interpolatedCount == badBins.count)
        // One DN of rounding is worth this much I/F.
        let dnStep = Double.pi * d * d * coefficients.radiancePerDNPerSecond / (coefficients.solarIrradiance1AU * tExp)
        var worst = 0.0
        for k in truth.indices where k != 5 && !badBins.contains(k) {
            let flat = 0.5  // flats are > 0.5, so a DN' error is at most 2 DN
            worst = max(worst, abs(Double(result.iof[k]) - truth[k]) / (dnStep / flat))
        }
        #expect(worst <= 1.0001, "largest error \(worst) DN-equivalents")
        // Interpolated bad samples lie within their neighbours' range.
        for k in badBins where !result.flags[k].contains(.missing) {
            #expect(result.iof[k] > 0.0 && result.iof[k] < 0.3)
        }
    }

    @Test func aBandTheSetLacksIsAClearError() throws {
        var set = try CalibrationSet.load(directory: CalibrationSetTests.sampleSet)
        set.arrays[.blu] = nil
        let header = Self.header(band: .blu, firstRow: 202, rows: 32, cols: 256, binning: 1)
        #expect(throws: RadiometricCalibrator.Failure.bandNotCalibrated("BLU", calibrationID: "cal-0001")) {
            try RadiometricCalibrator(set: set).calibrate(dn: [UInt16](repeating: 100, count: 32 * 256), header: header, sunDistanceAU: 1.5)
        }
    }

    /// Processing loads only the detector rows an observation's windows cover: calibrating from
    /// such a slice gives exactly what the whole arrays give, and a window outside it is refused.
    @Test(arguments: [1, 2])
    func rowSlicesCalibrateAsTheWholeDetector(binning: Int) throws {
        let whole = try CalibrationSet.load(directory: CalibrationSetTests.sampleSet)
        let cols = whole.description.detector.cols, firstRow = 84, rows = 32
        let arrays = try #require(whole.arrays[.red])
        let held = 80..<(firstRow + rows * binning + 3)
        var sliced = whole
        sliced.arrays[.red] = CalibrationSet.BandArrays(
            bias: Array(arrays.bias[(held.lowerBound * cols)..<(held.upperBound * cols)]),
            flat: Array(arrays.flat[(held.lowerBound * cols)..<(held.upperBound * cols)]),
            bad: Array(arrays.bad[(held.lowerBound * cols)..<(held.upperBound * cols)]), firstRow: held.lowerBound)
        #expect(sliced.arrays[.red]?.rows(columns: cols) == held)
        let header = Self.header(band: .red, firstRow: firstRow, rows: rows, cols: cols, binning: binning)
        let dn = (0..<(header.lines * header.samples)).map { UInt16(400 + ($0 * 37) % 9000) }
        let expected = try RadiometricCalibrator(set: whole).calibrate(dn: dn, header: header, sunDistanceAU: 1.4)
        let got = try RadiometricCalibrator(set: sliced).calibrate(dn: dn, header: header, sunDistanceAU: 1.4)
        #expect(got.iof.elementsEqual(expected.iof) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(got.flags == expected.flags)
        #expect(expected.interpolatedCount > 0)  // the window holds bad pixels: interpolation is compared too

        let below = Self.header(band: .red, firstRow: held.upperBound - 8, rows: 16, cols: cols, binning: 1)
        #expect(throws: RadiometricCalibrator.Failure.self) {
            try RadiometricCalibrator(set: sliced).calibrate(dn: [UInt16](repeating: 500, count: 16 * cols), header: below, sunDistanceAU: 1.4)
        }
    }

    /// A sample with no valid neighbour is missing, and its I/F is NaN (what mosaicking relies on).
    @Test func missingSamplesAreNaN() throws {
        var set = try CalibrationSet.load(directory: CalibrationSetTests.sampleSet)
        let cols = set.description.detector.cols, firstRow = 84
        var arrays = try #require(set.arrays[.red])
        // A bad 3 × 3 block: its centre has only bad neighbours.
        for r in 10...12 { for c in 20...22 { arrays.bad[(firstRow + r) * cols + c] = 1 } }
        set.arrays[.red] = arrays
        let header = Self.header(band: .red, firstRow: firstRow, rows: 32, cols: cols, binning: 1)
        let result = try RadiometricCalibrator(set: set).calibrate(dn: [UInt16](repeating: 900, count: 32 * cols), header: header, sunDistanceAU: 1.4)
        let centre = 11 * cols + 21
        #expect(result.flags[centre].contains(.missing))
        #expect(result.iof[centre].isNaN)
        #expect(result.iof.enumerated().allSatisfy { $0.element.isNaN == result.flags[$0.offset].contains(.missing) })
    }
}
