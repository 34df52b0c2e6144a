import AreoTelemetry
import Foundation
import Logging
import PostgresNIO

/// Observation plans (ICD §10): loaded from `*.plan.jsonl`, stored, and checked for the clock wrap.
public struct PlanRepository: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// The longest observation whose plan the clock-wrap detector finds by its start (a day).
    public static let longestObservation: Double = 86_400

    /// The plans that can witness for packets stamped within `sclk` (ICD §6): those starting
    /// from two wrap periods (and a day) before it to its end. One indexed range query; its
    /// cost follows the plans near the pass, not the archive.
    public func spans(around sclk: ClosedRange<Double>) async throws -> PlannedSpans {
        let from = sclk.lowerBound - 2 * SpacecraftClock.wrapPeriod - Self.longestObservation
        var spans: [PlannedSpans.Span] = []
        for try await (id, start, end) in try await database.client.query(
            "SELECT observation_id, start_sclk, end_sclk FROM plans WHERE start_sclk >= \(from) AND start_sclk <= \(sclk.upperBound)",
            logger: logger
        ).decode((Int, Double, Double).self) {
            spans.append(.init(observationID: id, start: start, end: end))
        }
        return PlannedSpans(spans)
    }

    /// The stored plan of `observationID`, nil when none is loaded.
    public func plan(observationID: Int) async throws -> ObservationPlan? {
        for try await (json,) in try await database.client.query(
            "SELECT plan::text FROM plans WHERE observation_id = \(observationID)", logger: logger
        ).decode((String,).self) {
            return try? JSONDecoder().decode(ObservationPlan.self, from: Data(json.utf8))
        }
        return nil
    }

    /// What loading a plan file did.
    public struct LoadReport: Sendable, Codable, Equatable {
        public var file: String
        public var observations: [Int]
        /// Observations whose commanded span contains a coarse-clock wrap (ICD §6).
        public var spanningClockWrap: [Int]
    }

    /// Loads (or replaces) the plans of a file; observations already ingested are re-evaluated.
    /// - Throws: ``TelemetryError`` naming the file, line and rule of the first bad line; nothing
    ///   of a bad file is stored.
    public func load(_ data: Data, file: String) async throws -> LoadReport {
        let plans = try ObservationPlan.parseLines(data, file: file)
        var report = LoadReport(file: file, observations: [], spanningClockWrap: [])
        let logger = self.logger
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try await database.client.inTransaction(logger: logger) { connection in
            for plan in plans {
                let spansWrap = floor(plan.startSCLK / SpacecraftClock.wrapPeriod) != floor(plan.endSCLK / SpacecraftClock.wrapPeriod)
                let embargo = plan.embargoUntil.flatMap(GroundTime.parse)
                let json = String(decoding: try encoder.encode(plan), as: UTF8.self)
                let id = Int(plan.observationID)
                try await connection.query(
                    """
                    INSERT INTO plans (observation_id, start_sclk, end_sclk, plan, embargo_until, spans_clock_wrap, source_file)
                    VALUES (\(id), \(plan.startSCLK), \(plan.endSCLK), \(json)::jsonb, \(embargo), \(spansWrap), \(file))
                    ON CONFLICT (observation_id) DO UPDATE SET start_sclk = EXCLUDED.start_sclk, end_sclk = EXCLUDED.end_sclk,
                        plan = EXCLUDED.plan, embargo_until = EXCLUDED.embargo_until,
                        spans_clock_wrap = EXCLUDED.spans_clock_wrap, source_file = EXCLUDED.source_file, loaded_at = now()
                    """, logger: logger)
                report.observations.append(id)
                if spansWrap {
                    report.spanningClockWrap.append(id)
                    let wrapAt = (floor(plan.endSCLK / SpacecraftClock.wrapPeriod) * SpacecraftClock.wrapPeriod)
                    try await AnomalyRecorder.insert([Anomaly(
                        kind: .planSpansClockWrap, severity: .warning, observationID: id,
                        evidence: ["start_sclk": String(plan.startSCLK), "end_sclk": String(plan.endSCLK), "wrap_sclk": String(wrapAt), "file": file],
                        dedupKey: "plan_spans_clock_wrap:\(id)")], packetIDs: [:], connection: connection, logger: logger)
                    logger.warning("planned observation spans a coarse-clock wrap", metadata: ["observation": "\(id)", "wrap_sclk": "\(wrapAt)"])
                }
            }
            try await CompletenessEvaluator(connection: connection, logger: logger).evaluate(observations: Set(report.observations))
        }
        return report
    }
}
