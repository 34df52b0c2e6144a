import Foundation

/// One commanded observation from a `*.plan.jsonl` file (ICD §10).
public struct ObservationPlan: Sendable, Codable, Equatable {
    public struct BandWindow: Sendable, Codable, Equatable {
        public var band: String
        public var firstRow: Int
        public var rows: Int
        public var firstCol: Int
        public var cols: Int

        public init(band: String, firstRow: Int, rows: Int, firstCol: Int, cols: Int) {
            (self.band, self.firstRow, self.rows, self.firstCol, self.cols) = (band, firstRow, rows, firstCol, cols)
        }

        enum CodingKeys: String, CodingKey {
            case band, rows, cols
            case firstRow = "first_row"
            case firstCol = "first_col"
        }
    }

    public var observationID: UInt32
    public var startSCLK: Double
    public var exposures: Int
    public var intervalSeconds: Double
    public var exposureMicroseconds: UInt32
    public var binning: Int
    public var bitsPerSample: Int
    public var compression: String
    public var rotationDegrees: Double
    public var bands: [BandWindow]
    public var targetID: String?
    public var requestedBy: String?
    public var rationale: String?
    public var embargoUntil: String?

    public init(
        observationID: UInt32, startSCLK: Double, exposures: Int, intervalSeconds: Double, exposureMicroseconds: UInt32,
        binning: Int, bitsPerSample: Int, compression: String, rotationDegrees: Double, bands: [BandWindow],
        targetID: String? = nil, requestedBy: String? = nil, rationale: String? = nil, embargoUntil: String? = nil
    ) {
        self.observationID = observationID
        self.startSCLK = startSCLK
        self.exposures = exposures
        self.intervalSeconds = intervalSeconds
        self.exposureMicroseconds = exposureMicroseconds
        self.binning = binning
        self.bitsPerSample = bitsPerSample
        self.compression = compression
        self.rotationDegrees = rotationDegrees
        self.bands = bands
        self.targetID = targetID
        self.requestedBy = requestedBy
        self.rationale = rationale
        self.embargoUntil = embargoUntil
    }

    enum CodingKeys: String, CodingKey {
        case exposures, binning, compression, bands, rationale
        case observationID = "observation_id"
        case startSCLK = "start_sclk"
        case intervalSeconds = "interval_s"
        case exposureMicroseconds = "exposure_us"
        case bitsPerSample = "bits_per_sample"
        case rotationDegrees = "rotation_deg"
        case targetID = "target_id"
        case requestedBy = "requested_by"
        case embargoUntil = "embargo_until"
    }

    /// Tolerance on a framelet's start time (ICD §10).
    public static let startTolerance = 0.005

    /// Planned start of framelet `k`, SCLK seconds.
    public func frameletStart(_ k: Int) -> Double { startSCLK + Double(k) * intervalSeconds }
    /// Planned end of the last exposure, SCLK seconds.
    public var endSCLK: Double { frameletStart(exposures - 1) + Double(exposureMicroseconds) / 1e6 }
    /// Fragments the observation must deliver.
    public var expectedFragments: Int { exposures * bands.count }

    /// The rules of ICD §10 the plan breaks (empty when valid).
    public var violations: [String] {
        var rules: [String] = []
        // Fragment headers carry these as uint16/uint32 (ICD §4): a plan outside can never match.
        if !(1...65_535).contains(exposures) { rules.append("ICD §10: exposures must be in 1…65535") }
        if !(intervalSeconds.isFinite && intervalSeconds > 0 && intervalSeconds <= 86_400) { rules.append("ICD §10: interval_s must be in (0, 86400]") }
        if !(startSCLK.isFinite && (0...4_294_967_296).contains(startSCLK)) { rules.append("ICD §10: start_sclk must be a clock reading in 0…2³² s") }
        if !rotationDegrees.isFinite { rules.append("ICD §10: rotation_deg must be finite") }
        for window in bands where ![window.firstRow, window.rows, window.firstCol, window.cols].allSatisfy({ (0...65_535).contains($0) }) {
            rules.append("ICD §10: the \(window.band) window's first_row, rows, first_col and cols must be in 0…65535")
        }
        if ![1, 2, 4].contains(binning) { rules.append("ICD §10: binning must be 1, 2 or 4") }
        if !(8...16).contains(bitsPerSample) { rules.append("ICD §10: bits_per_sample must be 8–16") }
        if Compression(name: compression) == nil { rules.append("ICD §10: compression must be none, ccsds121 or jpeg, is '\(compression)'") }
        if !(0..<360).contains(rotationDegrees) { rules.append("ICD §10: rotation_deg must be in [0, 360)") }
        if bands.isEmpty { rules.append("ICD §10: no bands") }
        for window in bands where Band(name: window.band) == nil { rules.append("ICD §10: unknown band '\(window.band)'") }
        if Set(bands.map(\.band)).count != bands.count { rules.append("ICD §10: a band is listed twice") }
        if let embargo = embargoUntil, GroundTime.parse(embargo) == nil { rules.append("ICD §10: embargo_until '\(embargo)' is not ISO 8601") }
        return rules
    }

    /// Parses a JSON Lines plan file; every line must be a valid plan.
    /// - Throws: ``TelemetryError`` naming the file, line and rule of the first bad line.
    public static func parseLines(_ data: Data, file: String) throws(TelemetryError) -> [ObservationPlan] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw TelemetryError(.plan, "ICD §10: plan file is not UTF-8", file: file)
        }
        var plans: [ObservationPlan] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let plan: ObservationPlan
            do {
                plan = try JSONDecoder().decode(ObservationPlan.self, from: Data(trimmed.utf8))
            } catch let error as DecodingError {
                throw TelemetryError(.plan, "ICD §10: \(describe(error))", file: file, line: index + 1)
            } catch {
                throw TelemetryError(.plan, "ICD §10: \(error)", file: file, line: index + 1)
            }
            if let rule = plan.violations.first { throw TelemetryError(.plan, rule, file: file, line: index + 1) }
            plans.append(plan)
        }
        return plans
    }

    /// A one-line account of a JSON decoding failure, naming the field.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "field '\(path(context))' has the wrong type"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "line is not valid JSON" : "field '\(path(context))' is invalid"
        @unknown default: return "invalid JSON"
        }
    }
}
