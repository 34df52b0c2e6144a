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
}
