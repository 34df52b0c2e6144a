import AreoTelemetry
import Foundation

/// `instrument.json` (ICD §8): the detector and its band windows.
public struct InstrumentDescription: Sendable, Codable, Equatable {
    public struct Detector: Sendable, Codable, Equatable {
        public var rows: Int
        public var cols: Int
        public var pixelPitchMM: Double
        public var focalLengthMM: Double
        /// [x, y] in detector coordinates.
        public var principalPoint: [Double]

        public init(rows: Int, cols: Int, pixelPitchMM: Double, focalLengthMM: Double, principalPoint: [Double]) {
            (self.rows, self.cols, self.pixelPitchMM, self.focalLengthMM, self.principalPoint) = (rows, cols, pixelPitchMM, focalLengthMM, principalPoint)
        }

        enum CodingKeys: String, CodingKey {
            case rows, cols
            case pixelPitchMM = "pixel_pitch_mm"
            case focalLengthMM = "focal_length_mm"
            case principalPoint = "principal_point"
        }
    }

    public struct BandDescription: Sendable, Codable, Equatable {
        public struct Window: Sendable, Codable, Equatable {
            public var firstRow: Int
            public var rows: Int
            public var firstCol: Int
            public var cols: Int

            public init(firstRow: Int, rows: Int, firstCol: Int, cols: Int) {
                (self.firstRow, self.rows, self.firstCol, self.cols) = (firstRow, rows, firstCol, cols)
            }

            enum CodingKeys: String, CodingKey {
                case rows, cols
                case firstRow = "first_row"
                case firstCol = "first_col"
            }
        }

        public var id: Int
        public var name: String
        public var centerNM: Double
        public var window: Window

        public init(id: Int, name: String, centerNM: Double, window: Window) {
            (self.id, self.name, self.centerNM, self.window) = (id, name, centerNM, window)
        }

        enum CodingKeys: String, CodingKey {
            case id, name, window
            case centerNM = "center_nm"
        }
    }

    public var name: String
    public var detector: Detector
    public var bands: [BandDescription]

    public init(name: String, detector: Detector, bands: [BandDescription]) {
        (self.name, self.detector, self.bands) = (name, detector, bands)
    }

    /// The largest detector side accepted (rows or columns): fragment windows are uint16 (ICD §4).
    public static let maximumDetectorSide = 16_384

    /// The rules of ICD §8 the description breaks (empty when valid).
    public var violations: [String] {
        var rules: [String] = []
        if name.isEmpty { rules.append("ICD §8: name is empty") }
        let side = 1...Self.maximumDetectorSide
        guard side.contains(detector.rows), side.contains(detector.cols) else {
            // Every window check below adds detector coordinates: they must be bounded first.
            return rules + ["ICD §8: detector rows and cols must be in 1…\(Self.maximumDetectorSide)"]
        }
        if !(detector.pixelPitchMM.isFinite && detector.pixelPitchMM > 0 && detector.focalLengthMM.isFinite && detector.focalLengthMM > 0) {
            rules.append("ICD §8: pixel_pitch_mm and focal_length_mm must be finite and positive")
        }
        if detector.principalPoint.count != 2 || !detector.principalPoint.allSatisfy(\.isFinite) { rules.append("ICD §8: principal_point must be [x, y], finite") }
        for band in bands {
            guard let known = Band(name: band.name), Int(known.rawValue) == band.id else {
                rules.append("ICD §8: band \(band.id) '\(band.name)' is not one of 0 PAN, 1 RED, 2 NIR, 3 BLU")
                continue
            }
            let w = band.window
            if !(0..<detector.rows).contains(w.firstRow) || !(0..<detector.cols).contains(w.firstCol)
                || !(1...detector.rows).contains(w.rows) || !(1...detector.cols).contains(w.cols)
                || w.firstRow + w.rows > detector.rows || w.firstCol + w.cols > detector.cols {
                rules.append("ICD §8: the \(band.name) window [\(w.firstRow)+\(w.rows), \(w.firstCol)+\(w.cols)] is not on the \(detector.rows)×\(detector.cols) detector")
            }
        }
        if Set(bands.map(\.id)).count != bands.count { rules.append("ICD §8: a band is described twice") }
        return rules
    }

    /// Parses and validates `instrument.json`.
    /// - Throws: ``TelemetryError`` naming the file and the first rule broken.
    public static func parse(_ data: Data, file: String) throws(TelemetryError) -> InstrumentDescription {
        let instrument: InstrumentDescription
        do {
            instrument = try JSONDecoder().decode(InstrumentDescription.self, from: data)
        } catch let error as DecodingError {
            throw TelemetryError(.instrument, "ICD §8: \(ObservationPlan.describe(error))", file: file)
        } catch {
            throw TelemetryError(.instrument, "ICD §8: \(error)", file: file)
        }
        if let rule = instrument.violations.first { throw TelemetryError(.instrument, rule, file: file) }
        return instrument
    }
}
