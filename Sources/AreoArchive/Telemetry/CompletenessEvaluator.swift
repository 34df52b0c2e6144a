import AreoTelemetry
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Compares observations with their plans and replaces their observation-level anomalies with
/// what the comparison finds now (so a fragment completed by a later pass stops being reported).
struct CompletenessEvaluator {
    let connection: PostgresConnection
    let logger: Logger

    func evaluate(observations: Set<Int>) async throws {
        for observation in observations.sorted() {
            let comparison = try await comparison(for: observation)
            try await AnomalyRecorder.remove(.observationLevel(observation), connection: connection, logger: logger)
            let anomalies = comparison.findings.map { finding in
                Anomaly(
                    kind: Anomaly.Kind(rawValue: finding.kind.rawValue)!,
                    severity: finding.kind == .fragmentMissing || finding.kind == .fragmentIncomplete ? .warning : .error,
                    observationID: observation,
                    evidence: ["framelet": String(finding.frameletIndex), "band": finding.band, "detail": finding.detail],
                    dedupKey: "\(finding.kind.rawValue):\(observation):\(finding.frameletIndex):\(finding.band)")
            }
            try await AnomalyRecorder.insert(anomalies, connection: connection, logger: logger)
        }
    }

    func comparison(for observation: Int) async throws -> PlanComparison {
        try await Self.comparison(for: observation, query: { try await connection.query($0, logger: logger) })
    }

    /// Builds the comparison from stored plan and fragments through `query` (a connection or the pool).
    static func comparison(for observation: Int, query: (PostgresQuery) async throws -> PostgresRowSequence) async throws -> PlanComparison {
        try await comparisons(for: [observation], query: query)[observation] ?? PlanComparison(plan: nil, arrivals: [])
    }

    /// The comparisons of several observations in two queries (whatever their number), keyed by
    /// observation; an observation with neither plan nor fragment compares empty.
    static func comparisons(for observations: [Int], query: (PostgresQuery) async throws -> PostgresRowSequence) async throws -> [Int: PlanComparison] {
        let decoder = JSONDecoder()
        var plans: [Int: ObservationPlan] = [:]
        for try await (id, json) in try await query(
            "SELECT observation_id, plan::text FROM plans WHERE observation_id = ANY(\(observations))").decode((Int, String).self) {
            plans[id] = try decoder.decode(ObservationPlan.self, from: Data(json.utf8))
        }
        var arrivals: [Int: [PlanComparison.Arrival]] = [:]
        let rows = try await query(
            """
            SELECT observation_id, header::text, exposure_start, status, packet_count FROM fragments
            WHERE observation_id = ANY(\(observations)) ORDER BY observation_id, framelet_index, band
            """)
        for try await (id, headerJSON, start, status, packets) in rows.decode((Int, String, Double, String, Int).self) {
            let header = try decoder.decode(FragmentHeader.self, from: Data(headerJSON.utf8))
            arrivals[id, default: []].append(.init(header: header, correctedStart: start, status: .init(rawValue: status) ?? .incomplete, packetCount: packets))
        }
        var result: [Int: PlanComparison] = [:]
        for id in observations { result[id] = PlanComparison(plan: plans[id], arrivals: arrivals[id] ?? []) }
        return result
    }
}
