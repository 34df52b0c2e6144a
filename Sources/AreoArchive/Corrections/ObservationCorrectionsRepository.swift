import AreoProcessing
import Foundation
import Logging
import PostgresNIO

/// What was estimated from each observation's own data (the mechanism's offset, the straylight
/// factor ε), per set of inputs it was estimated with: the one writer of `observation_corrections`.
/// An estimate is derived data — a function of the observation's fragments, kernel, calibration
/// and shape models — so it is looked up by a key of those, and the history of a drifting
/// mechanism is the estimates in observation time order.
public struct ObservationCorrectionsRepository: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// One estimate as stored.
    public struct Record: Sendable, Codable, Equatable {
        public var observationID: Int
        public var inputsKey: String
        public var observationStartSCLK: Double
        public var kernelID: String
        public var calibrationID: String
        public var shapeModelIDs: [String]
        public var estimate: CorrectionEstimate
        public var estimatedAt: Date

        public init(
            observationID: Int, inputsKey: String, observationStartSCLK: Double, kernelID: String, calibrationID: String,
            shapeModelIDs: [String], estimate: CorrectionEstimate, estimatedAt: Date = Date()
        ) {
            (self.observationID, self.inputsKey, self.observationStartSCLK) = (observationID, inputsKey, observationStartSCLK)
            (self.kernelID, self.calibrationID, self.shapeModelIDs, self.estimate, self.estimatedAt) = (kernelID, calibrationID, shapeModelIDs, estimate, estimatedAt)
        }
    }

    /// The estimate made with `inputsKey`, nil when none is.
    public func find(observationID: Int, inputsKey: String) async throws -> Record? {
        try await records("WHERE observation_id = \(observationID) AND inputs_key = \(inputsKey)").first
    }

    /// The database's clock now, and when the newest estimate was made (where a scheduler
    /// starting up resumes).
    public func clock() async throws -> (now: Date, lastEstimate: Date?) {
        for try await (now, last) in try await database.client.query(
            "SELECT now(), (SELECT max(estimated_at) FROM observation_corrections)", logger: logger
        ).decode((Date, Date?).self) { return (now, last) }
        throw StoreError(.queryFailed, "no time from the database")
    }

    /// Stores `record` unless one with its key is there (two renders estimating at once store
    /// one); returns the one stored.
    @discardableResult
    public func record(_ record: Record) async throws -> Record {
        let e = record.estimate
        let evidence = String(decoding: try JSONEncoder().encode(e), as: UTF8.self)
        try await database.client.query(
            """
            INSERT INTO observation_corrections (observation_id, inputs_key, observation_start_sclk, kernel_id, calibration_id,
                shape_model_ids, mechanism_offset_deg, mechanism_uncertainty_deg, fringing_before_px, fringing_after_px,
                straylight_epsilon, straylight_amplitude, straylight_framelets, evidence, estimated_at)
            VALUES (\(record.observationID), \(record.inputsKey), \(record.observationStartSCLK), \(record.kernelID), \(record.calibrationID),
                \(record.shapeModelIDs), \(e.mechanism.offsetDegrees), \(e.mechanism.uncertaintyDegrees), \(e.mechanism.fringingBefore),
                \(e.mechanism.fringingAfter), \(e.corrections.straylightEpsilon), \(e.straylight.amplitude), \(e.straylight.exposedFramelets),
                \(evidence)::jsonb, \(record.estimatedAt))
            ON CONFLICT (observation_id, inputs_key) DO NOTHING
            """, logger: logger)
        return try await find(observationID: record.observationID, inputsKey: record.inputsKey) ?? record
    }

    /// The estimates in observation time order (then estimation time), within `sclk`, of the
    /// observations the caller may see (`publicOnly`: those the catalogue shows the public), at
    /// most `limit`, after `offset`.
    public func history(sclk: ClosedRange<Double>? = nil, observationID: Int? = nil, publicOnly: Bool, limit: Int, offset: Int = 0) async throws -> [Record] {
        var conditions: [SQLFragment] = []
        if let sclk { conditions.append("c.observation_start_sclk BETWEEN \(sclk.lowerBound) AND \(sclk.upperBound)") }
        if let observationID { conditions.append("c.observation_id = \(observationID)") }
        if publicOnly {
            conditions.append("EXISTS (SELECT 1 FROM observation_catalog o WHERE o.observation_id = c.observation_id AND \(unescaped: ObservationCatalog.visibleToPublic))")
        }
        let filter: SQLFragment = conditions.isEmpty ? "" : "WHERE \(SQLFragment.joined(conditions, separator: " AND "))"
        return try await records("\(filter) ORDER BY c.observation_start_sclk, c.estimated_at LIMIT \(limit) OFFSET \(offset)")
    }

    private func records(_ tail: SQLFragment) async throws -> [Record] {
        let query: SQLFragment = """
            SELECT c.observation_id, c.inputs_key, c.observation_start_sclk, c.kernel_id, c.calibration_id, c.shape_model_ids,
                   c.evidence::text, c.estimated_at
            FROM observation_corrections c \(tail)
            """
        var result: [Record] = []
        for try await (id, key, start, kernel, calibration, models, evidence, at) in try await database.client.query(query.query, logger: logger)
            .decode((Int, String, Double, String, String, [String], String, Date).self) {
            let estimate = try JSONDecoder().decode(CorrectionEstimate.self, from: Data(evidence.utf8))
            result.append(Record(observationID: id, inputsKey: key, observationStartSCLK: start, kernelID: kernel, calibrationID: calibration,
                                 shapeModelIDs: models, estimate: estimate, estimatedAt: at))
        }
        return result
    }
}

/// The rotation mechanism's history for operations (`GET /v1/mechanism`, `areo report
/// mechanism`): every estimate in observation time order, which exceed the limit, and the drift
/// fitted over them.
public struct MechanismReport: Sendable, Codable, Equatable {
    public struct Row: Sendable, Codable, Equatable {
        public var observationID: Int
        public var observationStartSCLK: Double
        public var offsetDegrees: Double
        public var uncertaintyDegrees: Double?
        public var fringingBeforePixels: Double?
        public var fringingAfterPixels: Double?
        public var beyondLimit: Bool
        public var reason: String?
        public var straylightEpsilon: Double?
        public var straylightAmplitude: Double
        public var kernelID: String
        public var calibrationID: String
        public var shapeModelIDs: [String]
        public var estimatedAt: Date

        enum CodingKeys: String, CodingKey {
            case observationID = "observation_id", observationStartSCLK = "observation_start_sclk", offsetDegrees = "offset_deg"
            case uncertaintyDegrees = "uncertainty_deg", fringingBeforePixels = "fringing_before_px", fringingAfterPixels = "fringing_after_px"
            case beyondLimit = "beyond_limit", reason, straylightEpsilon = "straylight_epsilon", straylightAmplitude = "straylight_amplitude_dn_per_s"
            case kernelID = "kernel_id", calibrationID = "calibration_id", shapeModelIDs = "shape_model_ids", estimatedAt = "estimated_at"
        }
    }

    public var limitDegrees: Double
    public var estimates: [Row]
    /// Least-squares drift of the offset over observation time, degrees per day (nil with fewer than two observations).
    public var driftDegreesPerDay: Double?

    enum CodingKeys: String, CodingKey { case limitDegrees = "limit_deg", estimates, driftDegreesPerDay = "drift_deg_per_day" }

    public init(records: [ObservationCorrectionsRepository.Record], limitDegrees: Double) {
        self.limitDegrees = limitDegrees
        estimates = records.map { r in
            let m = r.estimate.mechanism
            return Row(
                observationID: r.observationID, observationStartSCLK: r.observationStartSCLK, offsetDegrees: m.offsetDegrees,
                uncertaintyDegrees: m.uncertaintyDegrees, fringingBeforePixels: m.fringingBefore, fringingAfterPixels: m.fringingAfter,
                beyondLimit: abs(m.offsetDegrees) > limitDegrees, reason: m.reason, straylightEpsilon: r.estimate.corrections.straylightEpsilon,
                straylightAmplitude: r.estimate.straylight.amplitude, kernelID: r.kernelID, calibrationID: r.calibrationID,
                shapeModelIDs: r.shapeModelIDs, estimatedAt: r.estimatedAt)
        }
        // The latest estimate of each observation enters the drift fit once.
        var latest: [Int: Row] = [:]
        for row in estimates where row.reason == nil { latest[row.observationID] = row }
        let points = latest.values.map { ($0.observationStartSCLK / 86_400, $0.offsetDegrees) }
        if Set(points.map(\.0)).count >= 2 {
            let n = Double(points.count)
            let mx = points.reduce(0) { $0 + $1.0 } / n, my = points.reduce(0) { $0 + $1.1 } / n
            let sxx = points.reduce(0) { $0 + ($1.0 - mx) * ($1.0 - mx) }, sxy = points.reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
            driftDegreesPerDay = sxx > 0 ? sxy / sxx : nil
        }
    }
}
