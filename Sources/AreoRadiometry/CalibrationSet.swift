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
            /// The straylight pattern's file (DN per second at unit amplitude), if the band has one.
            public var straylight: String?
            /// The expected straylight amplitude against α (degrees between the boresight and the
            /// direction to the Sun): `[[α, A], …]`, linear between entries, 0 outside them.
            public var straylightAmplitude: [[Double]]?

            public init(
                bias: String, flat: String, badPixels: String, radiancePerDNPerSecond: Double, solarIrradiance1AU: Double,
                straylight: String? = nil, straylightAmplitude: [[Double]]? = nil
            ) {
                (self.bias, self.flat, self.badPixels) = (bias, flat, badPixels)
                (self.radiancePerDNPerSecond, self.solarIrradiance1AU) = (radiancePerDNPerSecond, solarIrradiance1AU)
                (self.straylight, self.straylightAmplitude) = (straylight, straylightAmplitude)
            }

            enum CodingKeys: String, CodingKey {
                case bias, flat, straylight
                case badPixels = "bad_pixels"
                case radiancePerDNPerSecond = "radiance_per_dn_per_s"
                case solarIrradiance1AU = "solar_irradiance_1au"
                case straylightAmplitude = "straylight_amplitude"
            }

            /// The files of the band's arrays, in the order their content is digested.
            public var arrayFiles: [(kind: String, file: String)] {
                [("bias", bias), ("flat", flat), ("bad", badPixels)] + (straylight.map { [("stray", $0)] } ?? [])
            }

            /// The expected straylight amplitude A(α) (DN/s at unit pattern), linear between the
            /// table's entries and 0 outside them (ICD §9); 0 without a table.
            public func expectedStraylight(alphaDegrees alpha: Double) -> Double {
                guard let table = straylightAmplitude, alpha.isFinite, let first = table.first, let last = table.last,
                      alpha >= first[0], alpha <= last[0] else { return 0 }
                for (a, b) in zip(table, table.dropFirst()) where alpha >= a[0] && alpha <= b[0] {
                    let span = b[0] - a[0]
                    return span > 0 ? a[1] + (b[1] - a[1]) * (alpha - a[0]) / span : max(a[1], b[1])
                }
                return 0
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
        /// The straylight pattern (DN per second at unit amplitude), if the band has one.
        public var straylight: [Float]?
        /// The detector row the arrays start at (0 for whole-detector arrays).
        public var firstRow: Int

        public init(bias: [Float], flat: [Float], bad: [UInt8], straylight: [Float]? = nil, firstRow: Int = 0) {
            (self.bias, self.flat, self.bad, self.straylight, self.firstRow) = (bias, flat, bad, straylight, firstRow)
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
            var straylight: [Float]? = nil
            if let file = band.straylight {
                let pattern = littleEndianFloats(try read(file, bytesPerPixel: 4))
                if let index = pattern.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
                    throw TelemetryError(.calibration, "ICD §9: the straylight pattern must be finite and ≥ 0 (DN/s) at pixel \(index)", file: place(file))
                }
                straylight = pattern
            }
            if let rule = Self.straylightTableViolation(band) { throw TelemetryError(.calibration, "ICD §9: \(name) \(rule)", file: file) }
            arrays[known] = BandArrays(bias: bias, flat: flat, bad: bad, straylight: straylight)
        }
        return CalibrationSet(description: description, arrays: arrays)
    }

    /// What is wrong with a band's straylight amplitude table, nil when nothing (ICD §9): pairs
    /// of finite numbers, α in 0…180° increasing, amplitudes ≥ 0, and a pattern to go with it.
    static func straylightTableViolation(_ band: Description.BandCalibration) -> String? {
        guard let table = band.straylightAmplitude else { return nil }
        guard band.straylight != nil else { return "straylight_amplitude is given without a straylight pattern" }
        guard !table.isEmpty, table.count <= 10_000 else { return "straylight_amplitude must hold 1…10 000 [α_deg, A] pairs" }
        for (k, entry) in table.enumerated() {
            guard entry.count == 2, entry[0].isFinite, entry[1].isFinite, (0...180).contains(entry[0]), entry[1] >= 0, entry[1] < 1e12 else {
                return "straylight_amplitude entry \(k) must be [α in 0…180°, A ≥ 0]"
            }
            if k > 0, entry[0] <= table[k - 1][0] { return "straylight_amplitude α must increase (entry \(k))" }
        }
        return nil
    }

    /// A set from its description and the stored bytes of its arrays (as ``load(directory:)``
    /// read and validated them when the set was loaded).
    /// The arrays may be row slices starting at detector row `firstRow` (the same for the
    /// three arrays of a band).
    public init(description: Description, arrayBytes: [Band: (bias: [UInt8], flat: [UInt8], bad: [UInt8], straylight: [UInt8]?, firstRow: Int)]) {
        self.description = description
        arrays = arrayBytes.mapValues {
            BandArrays(
                bias: Self.littleEndianFloats($0.bias), flat: Self.littleEndianFloats($0.flat), bad: $0.bad,
                straylight: $0.straylight.map(Self.littleEndianFloats), firstRow: $0.firstRow)
        }
    }

    /// A set from its description and the stored bytes of whole-detector arrays.
    public init(description: Description, arrayBytes: [Band: (bias: [UInt8], flat: [UInt8], bad: [UInt8])]) {
        self.init(description: description, arrayBytes: arrayBytes.mapValues { ($0.bias, $0.flat, $0.bad, nil, 0) })
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
