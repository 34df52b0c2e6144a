import AreoTelemetry

/// A framelet in I/F (ICD §9), with a quality flag per sample.
public struct CalibratedFramelet: Sendable {
    /// Per-sample quality bits.
    @frozen public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// A bad detector pixel in the bin; the value is interpolated from valid neighbours.
        @inlinable public static var interpolated: Flags { Flags(rawValue: 1) }
        /// The DN was at the top of its range (`2^bits − 1`): the value is a lower bound.
        @inlinable public static var saturated: Flags { Flags(rawValue: 2) }
        /// No valid value (bad with no valid neighbour).
        @inlinable public static var missing: Flags { Flags(rawValue: 4) }
    }

    public let lines: Int
    public let samples: Int
    /// I/F, row-major; NaN where ``Flags/missing``.
    public var iof: [Float]
    public var flags: [Flags]
    /// The straylight removed per unit amplitude, I/F per sample (kept only when asked for).
    public var straylightIoF: [Float]? = nil
    /// The mean straylight removed, I/F per sample (0 when none was).
    public var straylightRemoved: Double = 0
    public var saturatedCount: Int { flags.count { $0.contains(.saturated) } }
    public var interpolatedCount: Int { flags.count { $0.contains(.interpolated) } }
    public var missingCount: Int { flags.count { $0.contains(.missing) } }
}

/// Radiometric calibration of one framelet (ICD §9):
/// `DN' = (DN − bias − S·P·t_exp)/flat`, `L = DN'·k/t_exp`, `I/F = π·L·d²/F`, with bias, flat and
/// the straylight pattern P averaged over each bin, S the straylight amplitude removed
/// (`A(α)·(1 + ε)`, 0 without straylight), and a sample bad when any pixel of its bin is.
public struct RadiometricCalibrator: Sendable {
    public let set: CalibrationSet

    public init(set: CalibrationSet) { self.set = set }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case bandNotCalibrated(String, calibrationID: String)
        case windowOffDetector(String)
        case sampleCount(expected: Int, got: Int)
        case windowNotLoaded(String)

        public var description: String {
            switch self {
            case .bandNotCalibrated(let band, let id): "calibration set \(id) has no \(band) band (ICD §9)"
            case .windowOffDetector(let what): "the window \(what) is not on the calibrated detector (ICD §9)"
            case .sampleCount(let expected, let got): "\(got) samples, the header says \(expected)"
            case .windowNotLoaded(let what): "the calibration arrays loaded do not cover the window: \(what)"
            }
        }
    }

    /// Calibrates `dn` (the decoded samples of a fragment with `header`) seen at Sun distance
    /// `sunDistanceAU`, removing straylight of amplitude `straylight` (DN/s at unit pattern)
    /// before the flat field when the band has a pattern. With `keepStraylight`, the I/F removed
    /// per sample comes with the result (what the straylight estimator compares).
    public func calibrate(
        dn: [UInt16], header: FragmentHeader, sunDistanceAU: Double, straylight: Double = 0, keepStraylight: Bool = false
    ) throws(Failure) -> CalibratedFramelet {
        guard let band = header.band, let arrays = set.arrays[band], let coefficients = set.description.bands[band.name] else {
            throw .bandNotCalibrated(header.band?.name ?? "band \(header.bandCode)", calibrationID: set.description.calibrationID)
        }
        let lines = header.lines, samples = header.samples, binning = Int(header.binning)
        guard dn.count == lines * samples else { throw .sampleCount(expected: lines * samples, got: dn.count) }
        let cols = set.description.detector.cols, rows = set.description.detector.rows
        let firstRow = Int(header.windowFirstRow), firstCol = Int(header.windowFirstColumn)
        guard firstRow + lines * binning <= rows, firstCol + samples * binning <= cols else {
            throw .windowOffDetector("[\(firstRow)+\(lines * binning), \(firstCol)+\(samples * binning)]")
        }
        let held = arrays.rows(columns: cols)
        guard held.lowerBound <= firstRow, firstRow + lines * binning <= held.upperBound else {
            throw .windowNotLoaded("rows \(firstRow)..<\(firstRow + lines * binning), held \(held.lowerBound)..<\(held.upperBound)")
        }
        let saturation = UInt16((1 << Int(header.bitsPerSample)) - 1)
        let exposureSeconds = Double(header.exposureDurationMicroseconds) / 1e6
        // I/F per DN' — one factor for the whole framelet.
        let gain = Float(Double.pi * coefficients.radiancePerDNPerSecond / exposureSeconds * sunDistanceAU * sunDistanceAU / coefficients.solarIrradiance1AU)
        let count = dn.count
        let binArea = Float(binning * binning)
        let pattern = straylight > 0 || keepStraylight ? arrays.straylight : nil
        // DN of straylight per unit of pattern in this exposure.
        let strayDN = Float(straylight * exposureSeconds)
        var removed: [Float] = keepStraylight && pattern != nil ? [Float](repeating: 0, count: count) : []
        let emptyPattern: [Float] = []
        var removedSum = 0.0
        var flags = [CalibratedFramelet.Flags](repeating: [], count: count)
        let exposure = Float(exposureSeconds)
        var iof = [Float](unsafeUninitializedCapacity: count) { iof, initialized in
            dn.withUnsafeBufferPointer { dn in
            arrays.bias.withUnsafeBufferPointer { biasArray in
            arrays.flat.withUnsafeBufferPointer { flatArray in
            arrays.bad.withUnsafeBufferPointer { badArray in
            (pattern ?? emptyPattern).withUnsafeBufferPointer { strayArray in
            removed.withUnsafeMutableBufferPointer { removed in
            flags.withUnsafeMutableBufferPointer { flags in
                let hasPattern = !strayArray.isEmpty, keep = !removed.isEmpty
                for r in 0..<lines {
                    let detectorRow = firstRow + r * binning - held.lowerBound
                    var rowRemoved: Float = 0
                    for c in 0..<samples {
                        let index = r * samples + c
                        var bias: Float = 0, flat: Float = 0, bad: UInt8 = 0, stray: Float = 0
                        if binning == 1 {
                            let at = detectorRow * cols + firstCol + c
                            (bias, flat, bad) = (biasArray[at], flatArray[at], badArray[at])
                            if hasPattern { stray = strayArray[at] }
                        } else {
                            for dy in 0..<binning {
                                let rowBase = (detectorRow + dy) * cols + firstCol + c * binning
                                for dx in 0..<binning {
                                    bias += biasArray[rowBase + dx]
                                    flat += flatArray[rowBase + dx]
                                    bad |= badArray[rowBase + dx]
                                    if hasPattern { stray += strayArray[rowBase + dx] }
                                }
                            }
                            (bias, flat, stray) = (bias / binArea, flat / binArea, stray / binArea)
                        }
                        // I/F per DN' at this sample (one division).
                        let scale = gain / flat
                        if hasPattern {
                            // What unit amplitude adds, in I/F (for the estimator), and what is removed.
                            if flat > 0 {
                                if keep { removed[index] = stray * exposure * scale }
                                rowRemoved += strayDN * stray * scale
                            }
                            bias += strayDN * stray
                        }
                        if bad != 0 {
                            flags[index] = .interpolated
                            iof[index] = 0
                            continue
                        }
                        let value = dn[index]
                        if value >= saturation { flags[index] = .saturated }
                        iof[index] = (Float(value) - bias) * scale
                    }
                    removedSum += Double(rowRemoved)
                }
            }
            }
            }
            }
            }
            }
            }
            initialized = count
        }
        // Bad samples: the mean of their valid 4-neighbours (saturated ones are not valid).
        for index in flags.indices where flags[index].contains(.interpolated) {
            let r = index / samples, c = index % samples
            var sum: Float = 0, n: Float = 0
            for (nr, nc) in [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)] where nr >= 0 && nr < lines && nc >= 0 && nc < samples {
                let neighbour = nr * samples + nc
                if flags[neighbour].isEmpty { sum += iof[neighbour]; n += 1 }
            }
            if n > 0 {
                iof[index] = sum / n
            } else {
                flags[index].insert(.missing)
                iof[index] = .nan
            }
        }
        return CalibratedFramelet(
            lines: lines, samples: samples, iof: iof, flags: flags, straylightIoF: removed.isEmpty ? nil : removed, straylightRemoved: removedSum / Double(max(1, count)))
    }
}
