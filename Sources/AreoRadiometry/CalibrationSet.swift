import AreoTelemetry
import Foundation

/// A calibration set (ICD §9): `calibration.json` and, per band, whole-detector arrays of bias
/// (DN, float32 LE), flat (≈ 1, float32 LE) and bad pixels (uint8, 1 = bad).
public struct CalibrationSet: Sendable, Equatable {
    /// `calibration.json`.
    public struct Description: Sendable, Codable, Equatable {
        public struct Detector: Sendable, Codable, Equatable {
            public var rows: Int
            public var cols: Int

            public init(rows: Int, cols: Int) { (self.rows, self.cols) = (rows, cols) }
        }

        public struct BandCalibration: Sendable, Codable, Equatable {
            public var bias: String
            public var flat: String
            public var badPixels: String
            public var radiancePerDNPerSecond: Double
            public var solarIrradiance1AU: Double

            public init(bias: String, flat: String, badPixels: String, radiancePerDNPerSecond: Double, solarIrradiance1AU: Double) {
                (self.bias, self.flat, self.badPixels) = (bias, flat, badPixels)
                (self.radiancePerDNPerSecond, self.solarIrradiance1AU) = (radiancePerDNPerSecond, solarIrradiance1AU)
            }

            enum CodingKeys: String, CodingKey {
                case bias, flat
                case badPixels = "bad_pixels"
                case radiancePerDNPerSecond = "radiance_per_dn_per_s"
                case solarIrradiance1AU = "solar_irradiance_1au"
            }
        }

        public var calibrationID: String
        public var produced: String
        public var appliesFromSCLK: Double
        public var detector: Detector
        public var bands: [String: BandCalibration]

        public init(calibrationID: String, produced: String, appliesFromSCLK: Double, detector: Detector, bands: [String: BandCalibration]) {
            (self.calibrationID, self.produced, self.appliesFromSCLK, self.detector, self.bands) = (calibrationID, produced, appliesFromSCLK, detector, bands)
        }

        enum CodingKeys: String, CodingKey {
            case produced, detector, bands
            case calibrationID = "calibration_id"
            case appliesFromSCLK = "applies_from_sclk"
        }
    }

    /// One band's arrays, row-major, full detector width: the whole detector, or (as processing
    /// loads them) only the detector rows `firstRow ..< firstRow + rowCount` its windows cover.
    public struct BandArrays: Sendable, Equatable {
        public var bias: [Float]
        public var flat: [Float]
        public var bad: [UInt8]
        /// The detector row the arrays start at (0 for whole-detector arrays).
        public var firstRow: Int

        public init(bias: [Float], flat: [Float], bad: [UInt8], firstRow: Int = 0) {
            (self.bias, self.flat, self.bad, self.firstRow) = (bias, flat, bad, firstRow)
        }

        /// The detector rows held, for a detector `columns` wide.
        public func rows(columns: Int) -> Range<Int> { firstRow..<(firstRow + bad.count / max(1, columns)) }
    }

    public var description: Description
    public var arrays: [Band: BandArrays]

    /// The largest detector a calibration set may describe, rows and columns each (ICD §9).
    public static let maximumDetectorSide = 16_384

    /// Reads and validates a calibration directory.
    /// - Throws: ``TelemetryError`` naming the file and the rule (missing file, wrong size,
    ///   non-finite or non-positive flat, unknown band).
    public static func load(directory: URL) throws(TelemetryError) -> CalibrationSet {
        let jsonURL = directory.appendingPathComponent("calibration.json")
        guard let data = FileManager.default.contents(atPath: jsonURL.path) else {
            throw TelemetryError(.calibration, "ICD §9: calibration.json is missing", file: jsonURL.path)
        }
        return try parse(description: data, file: jsonURL.path) { name in
            guard !name.contains("/"), let bytes = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { return nil }
            return [UInt8](bytes)
        } place: { directory.appendingPathComponent($0).path }
    }

    /// Validates a calibration set from its description and a reader of its array files.
    /// - Parameters:
    ///   - description: the bytes of `calibration.json`.
    ///   - file: how to name `calibration.json` in errors.
    ///   - array: the bytes of an array file by its name, nil when it is missing.
    ///   - place: how to name an array file in errors.
    /// - Throws: ``TelemetryError`` naming the file and the rule.
    public static func parse(
        description data: Data, file: String, array: (String) -> [UInt8]?, place: (String) -> String = { $0 }
    ) throws(TelemetryError) -> CalibrationSet {
        let description: Description
        do {
            description = try JSONDecoder().decode(Description.self, from: data)
        } catch let error as DecodingError {
            throw TelemetryError(.calibration, "ICD §9: \(ObservationPlan.describe(error))", file: file)
        } catch {
            throw TelemetryError(.calibration, "ICD §9: \(error)", file: file)
        }
        guard !description.calibrationID.isEmpty else { throw TelemetryError(.calibration, "ICD §9: calibration_id is empty", file: file) }
        guard GroundTime.parse(description.produced) != nil else {
            throw TelemetryError(.calibration, "ICD §9: produced '\(description.produced)' is not ISO 8601", file: file)
        }
        guard description.appliesFromSCLK.isFinite, (0...4_294_967_296).contains(description.appliesFromSCLK) else {
            throw TelemetryError(.calibration, "ICD §9: applies_from_sclk must be a clock reading in 0…2³²", file: file)
        }
        let side = 1...maximumDetectorSide
        guard side.contains(description.detector.rows), side.contains(description.detector.cols) else {
            throw TelemetryError(.calibration, "ICD §9: detector rows and cols must be in 1…\(maximumDetectorSide)", file: file)
        }
        let pixels = description.detector.rows * description.detector.cols
        var arrays: [Band: BandArrays] = [:]
        for (name, band) in description.bands.sorted(by: { $0.key < $1.key }) {
            guard let known = Band(name: name) else { throw TelemetryError(.calibration, "ICD §9: unknown band '\(name)'", file: file) }
            guard band.radiancePerDNPerSecond.isFinite, band.solarIrradiance1AU.isFinite, band.radiancePerDNPerSecond > 0, band.solarIrradiance1AU > 0 else {
                throw TelemetryError(.calibration, "ICD §9: \(name) coefficients must be finite and positive", file: file)
            }
            func read(_ name: String, bytesPerPixel: Int) throws(TelemetryError) -> [UInt8] {
                guard let bytes = array(name) else {
                    throw TelemetryError(.calibration, "ICD §9: array file is missing", file: place(name))
                }
                guard bytes.count == pixels * bytesPerPixel else {
                    throw TelemetryError(.calibration, "ICD §9: \(bytes.count) bytes, a \(description.detector.rows)×\(description.detector.cols) array needs \(pixels * bytesPerPixel)", file: place(name))
                }
                return bytes
            }
            let bias = littleEndianFloats(try read(band.bias, bytesPerPixel: 4))
            let flat = littleEndianFloats(try read(band.flat, bytesPerPixel: 4))
            let bad = try read(band.badPixels, bytesPerPixel: 1)
            if let index = bias.firstIndex(where: { !$0.isFinite }) {
                throw TelemetryError(.calibration, "ICD §9: bias is not finite at pixel \(index)", file: place(band.bias))
            }
            if let index = flat.indices.first(where: { bad[$0] == 0 && !(flat[$0].isFinite && flat[$0] > 0) }) {
                throw TelemetryError(.calibration, "ICD §9: flat must be finite and > 0 at good pixel \(index)", file: place(band.flat))
            }
            if let index = bad.firstIndex(where: { $0 > 1 }) {
                throw TelemetryError(.calibration, "ICD §9: bad-pixel value must be 0 or 1 at pixel \(index)", file: place(band.badPixels))
            }
            arrays[known] = BandArrays(bias: bias, flat: flat, bad: bad)
        }
        return CalibrationSet(description: description, arrays: arrays)
    }

    /// A set from its description and the stored bytes of its arrays (as ``load(directory:)``
    /// read and validated them when the set was loaded).
    /// The arrays may be row slices starting at detector row `firstRow` (the same for the
    /// three arrays of a band).
    public init(description: Description, arrayBytes: [Band: (bias: [UInt8], flat: [UInt8], bad: [UInt8], firstRow: Int)]) {
        self.description = description
        arrays = arrayBytes.mapValues {
            BandArrays(bias: Self.littleEndianFloats($0.bias), flat: Self.littleEndianFloats($0.flat), bad: $0.bad, firstRow: $0.firstRow)
        }
    }

    /// A set from its description and the stored bytes of whole-detector arrays.
    public init(description: Description, arrayBytes: [Band: (bias: [UInt8], flat: [UInt8], bad: [UInt8])]) {
        self.init(description: description, arrayBytes: arrayBytes.mapValues { ($0.bias, $0.flat, $0.bad, 0) })
    }

    /// A set from its description and arrays already in memory (a simulator's).
    public init(description: Description, arrays: [Band: BandArrays]) {
        self.description = description
        self.arrays = arrays
    }

    static func littleEndianFloats(_ bytes: [UInt8]) -> [Float] {
        [Float](unsafeUninitializedCapacity: bytes.count / 4) { floats, count in
            bytes.withUnsafeBytes { raw in
                for i in 0..<(bytes.count / 4) {
                    floats[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            }
            count = bytes.count / 4
        }
    }
}
