import AreoTelemetry
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The last transaction of a pass: reassemble fragments (also those begun in earlier passes),
/// find sequence gaps, compare observations with their plans, save the stream state, and mark
/// the pass complete. Everything here is recomputed from stored packets, so it is idempotent.
struct PassFinisher {
    let database: Database
    let logger: Logger
    let reassemblyPageSize: Int

    struct Outcome {
        var fragmentsCompleted = 0
    }

    func finish(passID: Int, records: Int, damagedBytes: Int, context: BatchContext) async throws -> Outcome {
        let logger = self.logger
        return try await database.client.inTransaction(logger: logger) { connection in
            // One finisher at a time: reassembly reads and writes shared state.
            try await connection.query("SELECT pg_advisory_xact_lock(4242)", logger: logger)
            var outcome = Outcome()
            let t0 = ContinuousClock.now
            let touched = try await Reassembler(connection: connection, logger: logger, pageSize: reassemblyPageSize).reassemble()
            logger.debug("reassembled", metadata: ["seconds": "\(ContinuousClock.now - t0)"])
            outcome.fragmentsCompleted = touched.completed
            try await Self.findSequenceGaps(context: context, connection: connection, logger: logger)
            try await Self.recordClockWraps(connection: connection, logger: logger)
            var observations = touched.observations
            observations.formUnion(try await Self.observationsReceived(passID: passID, connection: connection, logger: logger))
            try await CompletenessEvaluator(connection: connection, logger: logger).evaluate(observations: observations)
            for (apid, detector) in context.detectors {
                guard let state = detector.state else { continue }
                try await connection.query(
                    """
                    INSERT INTO stream_state (apid, last_sequence_count, last_sclk, last_ert_us, wrap_correction)
                    VALUES (\(Int(apid)), \(Int(state.sequenceCount)), \(state.sclk), \(state.ertMicroseconds), \(state.wraps))
                    ON CONFLICT (apid) DO UPDATE SET last_sequence_count = EXCLUDED.last_sequence_count,
                        last_sclk = EXCLUDED.last_sclk, last_ert_us = EXCLUDED.last_ert_us, wrap_correction = EXCLUDED.wrap_correction
                    """, logger: logger)
            }
            try await connection.query(
                "UPDATE passes SET completed_at = now(), records = \(records), damaged_bytes = \(damagedBytes) WHERE id = \(passID)",
                logger: logger)
            return outcome
        }
    }

    /// Sequence gaps among the stored packets of each APID, in generation order, over the span
    /// this pass delivered (extended to its neighbours on both sides).
    static func findSequenceGaps(context: BatchContext, connection: PostgresConnection, logger: Logger) async throws {
        var anomalies: [Anomaly] = []
        for (apid, range) in context.sclkRange where apid != SpacePacket.APID.idle {
            // An unbroken run can have gaps only at its ends: two neighbours are read instead of
            // the whole span.
            if let run = context.runs[apid], run.unbroken {
                let rows = try await connection.query(
                    """
                    (SELECT 0, sequence_count::int8, sclk FROM packets WHERE apid = \(Int(apid)) AND sclk < \(range.lowerBound)
                       ORDER BY sclk DESC, sequence_count DESC LIMIT 1)
                    UNION ALL
                    (SELECT 1, sequence_count::int8, sclk FROM packets WHERE apid = \(Int(apid)) AND sclk > \(range.upperBound)
                       ORDER BY sclk, sequence_count LIMIT 1)
                    """, logger: logger)
                var before: (sequenceCount: Int, sclk: Double)? = nil, after: (sequenceCount: Int, sclk: Double)? = nil
                for try await (side, sequenceCount, sclk) in rows.decode((Int, Int, Double).self) {
                    if side == 0 { before = (sequenceCount, sclk) } else { after = (sequenceCount, sclk) }
                }
                for (earlier, later) in [(before, Optional(run.first)), (Optional(run.last), after)] {
                    guard let earlier, let later else { continue }
                    let step = (later.sequenceCount - earlier.sequenceCount) & 0x3FFF
                    if step > 1 && step < 8192 { anomalies.append(Self.sequenceGap(apid: apid, after: earlier, before: later)) }
                }
                let span = (before?.sclk ?? run.first.sclk)...(after?.sclk ?? run.last.sclk)
                try await Self.clearFilledGaps(apid: apid, span: span, connection: connection, logger: logger)
                continue
            }
            // Otherwise the comparison of neighbours runs in the server (a window over the span),
            // which returns only the gaps and the span, not every packet of the pass.
            let rows = try await connection.query(
                """
                WITH s AS MATERIALIZED (
                  (SELECT sequence_count, sclk FROM packets WHERE apid = \(Int(apid)) AND sclk < \(range.lowerBound)
                     ORDER BY sclk DESC, sequence_count DESC LIMIT 1)
                  UNION ALL
                  (SELECT sequence_count, sclk FROM packets WHERE apid = \(Int(apid)) AND sclk BETWEEN \(range.lowerBound) AND \(range.upperBound))
                  UNION ALL
                  (SELECT sequence_count, sclk FROM packets WHERE apid = \(Int(apid)) AND sclk > \(range.upperBound)
                     ORDER BY sclk, sequence_count LIMIT 1)
                ), o AS (
                  SELECT lag(sequence_count) OVER w AS after_seq, lag(sclk) OVER w AS after_sclk, sequence_count, sclk
                  FROM s WINDOW w AS (ORDER BY sclk, sequence_count)
                )
                SELECT 0, after_seq::int8, after_sclk, sequence_count::int8, sclk FROM o
                WHERE after_seq IS NOT NULL AND ((sequence_count - after_seq) & 16383) BETWEEN 2 AND 8191
                UNION ALL
                SELECT 1, NULL, min(sclk), NULL, max(sclk) FROM s
                ORDER BY 1, 3
                """, logger: logger)
            var span: ClosedRange<Double>? = nil
            for try await (kind, after, afterSCLK, before, beforeSCLK) in rows.decode((Int, Int?, Double?, Int?, Double?).self) {
                if kind == 1 {
                    if let low = afterSCLK, let high = beforeSCLK { span = low...high }
                    continue
                }
                guard let after, let afterSCLK, let before, let beforeSCLK else { continue }
                anomalies.append(Self.sequenceGap(apid: apid, after: (after, afterSCLK), before: (before, beforeSCLK)))
            }
            if let span { try await Self.clearFilledGaps(apid: apid, span: span, connection: connection, logger: logger) }
        }
        try await AnomalyRecorder.insert(anomalies, connection: connection, logger: logger)
    }

    /// The anomaly for missing sequence counts between two stored packets of `apid`.
    static func sequenceGap(apid: UInt16, after: (sequenceCount: Int, sclk: Double), before: (sequenceCount: Int, sclk: Double)) -> Anomaly {
        let step = (before.sequenceCount - after.sequenceCount) & 0x3FFF
        return Anomaly(
            kind: .sequenceGap, severity: .warning,
            evidence: [
                "apid": String(apid), "after_sequence_count": String(after.sequenceCount), "before_sequence_count": String(before.sequenceCount),
                "missing_packets": String(step - 1), "after_sclk": String(after.sclk), "before_sclk": String(before.sclk),
            ],
            dedupKey: "sequence_gap:\(apid):\(after.sequenceCount):\(after.sclk)")
    }

    /// Gaps recorded earlier inside `span` and now filled (a later pass delivered the missing
    /// packets) are no longer gaps; those still open are found again and recorded anew.
    static func clearFilledGaps(apid: UInt16, span: ClosedRange<Double>, connection: PostgresConnection, logger: Logger) async throws {
        try await AnomalyRecorder.remove(.sequenceGaps(apid: apid, span: span), connection: connection, logger: logger)
    }

    /// One clock-wrap anomaly per observation with corrected packets, with the evidence: how many
    /// packets, the first raw and corrected times, and the plan window the corrected times fit.
    static func recordClockWraps(connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            """
            SELECT f.observation_id, count(*)::int8, min(p.sequence_count)::int8, max(p.sequence_count)::int8,
                   min(p.sclk_coarse_raw + p.sclk_fine / 65536.0)::float8, min(p.sclk), max(p.wrap_correction)::int8,
                   pl.start_sclk, pl.end_sclk
            FROM packets p JOIN fragment_packets fp ON fp.packet_id = p.id JOIN fragments f ON f.id = fp.fragment_id LEFT JOIN plans pl ON pl.observation_id = f.observation_id
            WHERE p.wrap_correction <> 0
            GROUP BY f.observation_id, pl.start_sclk, pl.end_sclk
            """, logger: logger)
        var anomalies: [Anomaly] = []
        for try await (observation, count, firstSeq, lastSeq, firstRaw, firstCorrected, wraps, planStart, planEnd)
            in rows.decode((Int, Int, Int, Int, Double, Double, Int, Double?, Double?).self)
        {
            var evidence = [
                "corrected_packets": String(count), "first_sequence_count": String(firstSeq), "last_sequence_count": String(lastSeq),
                "first_raw_sclk": String(firstRaw), "first_corrected_sclk": String(firstCorrected),
                "offset_s": String(Double(wraps) * SpacecraftClock.wrapPeriod),
                "evidence": "SCLK jumped by 65536 s while the sequence count ran on, and ERT continuity or the observation plan (packets of a later pass) placed the packets in the observation",
            ]
            if let planStart, let planEnd { evidence["plan_window_sclk"] = "[\(planStart), \(planEnd)]" }
            anomalies.append(Anomaly(
                kind: .clockWrap, severity: .warning, observationID: observation, evidence: evidence,
                dedupKey: "clock_wrap:\(observation)"))
        }
        // The evidence grows as passes bring more packets: replace, keyed by observation.
        try await AnomalyRecorder.remove(.keys(anomalies.map(\.dedupKey)), connection: connection, logger: logger)
        try await AnomalyRecorder.insert(anomalies, connection: connection, logger: logger)
    }

    static func observationsReceived(passID: Int, connection: PostgresConnection, logger: Logger) async throws -> Set<Int> {
        let rows = try await connection.query(
            """
            SELECT DISTINCT f.observation_id FROM fragments f
            JOIN fragment_packets fp ON fp.fragment_id = f.id JOIN receptions r ON r.packet_id = fp.packet_id
            WHERE r.pass_id = \(passID)
            """, logger: logger)
        var result = Set<Int>()
        for try await id in rows.decode(Int.self) { result.insert(id) }
        return result
    }
}
