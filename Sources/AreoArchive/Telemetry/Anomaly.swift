import PostgresNIO
import Logging
import AreoTelemetry
import Foundation

/// An abnormality for the operations team: what, how bad, where, and the evidence.
public struct Anomaly: Sendable, Equatable, Codable {
    /// The kinds Areo records. The JSON spelling is stable (docs/operations.md).
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case strayBytes = "stray_bytes"
        case truncatedRecord = "truncated_record"
        case packetCRCError = "packet_crc_error"
        case duplicatePacket = "duplicate_packet"
        case outOfOrder = "out_of_order"
        case sequenceGap = "sequence_gap"
        case unknownAPID = "unknown_apid"
        case malformedHousekeeping = "malformed_housekeeping"
        case clockWrap = "clock_wrap"
        case housekeepingYellow = "hk_yellow"
        case housekeepingRed = "hk_red"
        case orphanPackets = "orphan_packets"
        case fragmentMissing = "fragment_missing"
        case fragmentUnexpected = "fragment_unexpected"
        case fragmentIncomplete = "fragment_incomplete"
        case fragmentCorrupt = "fragment_corrupt"
        case headerMismatch = "header_mismatch"
        case planSpansClockWrap = "plan_spans_clock_wrap"
        /// Saturated samples found when an observation was processed (ICD §4, §9).
        case saturation = "saturation"
        /// The rotation mechanism's estimated offset is beyond the configured limit (ICD §8).
        case mechanismOffset = "mechanism_offset"
        /// Straylight removed from an observation is a large part of its signal (ICD §9).
        case straylight = "straylight"

        /// Kinds recomputed whenever an observation's completeness is evaluated.
        static let observationLevel: [Kind] = [.fragmentMissing, .fragmentUnexpected, .fragmentIncomplete, .fragmentCorrupt, .headerMismatch]
    }

    public enum Severity: String, Sendable, Codable {
        case info, warning, error, alarm
    }

    public var kind: Kind
    public var severity: Severity
    public var observationID: Int?
    public var passID: Int?
    /// Not stored directly: the key of the packet, resolved to its id on insert.
    public var packetOffset: Int?
    public var fileOffset: Int?
    /// The packet concerned when its id is known already (otherwise resolved from `fileOffset`).
    public var packetID: Int?
    public var evidence: [String: String]
    /// Makes recording idempotent: the same abnormality found twice is stored once.
    public var dedupKey: String

    public init(
        kind: Kind, severity: Severity, observationID: Int? = nil, passID: Int? = nil, fileOffset: Int? = nil,
        evidence: [String: String] = [:], dedupKey: String
    ) {
        self.kind = kind
        self.severity = severity
        self.observationID = observationID
        self.passID = passID
        self.fileOffset = fileOffset
        self.evidence = evidence
        self.dedupKey = dedupKey
    }

    var evidenceJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(evidence)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// The one writer of `anomalies`: records them idempotently by their dedup keys, and removes
/// those a later look no longer finds. Ingest, the completeness check, housekeeping
/// re-derivation and processing all record through it.
public struct AnomalyRecorder: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public func record(_ anomalies: [Anomaly]) async throws {
        guard !anomalies.isEmpty else { return }
        let logger = self.logger
        try await database.client.withConnection { connection in
            try await Self.insert(anomalies, connection: connection, logger: logger)
        }
    }

    /// Anomalies that a later look replaces.
    enum Superseded {
        /// The plan-comparison findings of an observation (recomputed whenever it changes).
        case observationLevel(Int)
        /// Housekeeping limit violations of these packets (re-derived with a new dictionary).
        case housekeepingLimits(packets: [Int])
        /// Sequence gaps of `apid` inside `span` (a later pass may have filled them).
        case sequenceGaps(apid: UInt16, span: ClosedRange<Double>)
        /// These exact anomalies (evidence that grows, replaced whole).
        case keys([String])
    }

    /// Removes the anomalies `superseded` names, on `connection` (in the caller's transaction).
    static func remove(_ superseded: Superseded, connection: PostgresConnection, logger: Logger) async throws {
        switch superseded {
        case .observationLevel(let observation):
            try await connection.query(
                """
                DELETE FROM anomalies WHERE observation_id = \(observation)
                AND kind = ANY(\(Anomaly.Kind.observationLevel.map(\.rawValue))::text[])
                """, logger: logger)
        case .housekeepingLimits(let packets):
            try await connection.query(
                "DELETE FROM anomalies WHERE kind IN ('hk_yellow', 'hk_red') AND packet_id = ANY(\(packets))", logger: logger)
        case .sequenceGaps(let apid, let span):
            try await connection.query(
                """
                DELETE FROM anomalies WHERE kind = 'sequence_gap' AND evidence->>'apid' = \(String(apid))
                AND (evidence->>'after_sclk')::float8 >= \(span.lowerBound) AND (evidence->>'before_sclk')::float8 <= \(span.upperBound)
                """, logger: logger)
        case .keys(let keys):
            guard !keys.isEmpty else { return }
            try await connection.query("DELETE FROM anomalies WHERE dedup_key = ANY(\(keys))", logger: logger)
        }
    }

    /// Inserts `anomalies` on `connection` (in the caller's transaction), each at most once by
    /// its dedup key; `packetIDs` maps file offsets to the packets stored from them.
    static func insert(_ anomalies: [Anomaly], packetIDs: [Int: Int] = [:], connection: PostgresConnection, logger: Logger) async throws {
        guard !anomalies.isEmpty else { return }
        let packetIDText = anomalies.map { a in (a.packetID ?? a.fileOffset.flatMap { packetIDs[$0] }).map(String.init) ?? "" }
        try await connection.query(
            """
            INSERT INTO anomalies (kind, severity, observation_id, pass_id, packet_id, file_offset, evidence, dedup_key)
            SELECT kind, severity, NULLIF(obs, '')::int8, NULLIF(pass, '')::int8, NULLIF(pkt, '')::int8, NULLIF(off, '')::int8, evidence::jsonb, key
            FROM unnest(\(anomalies.map(\.kind.rawValue))::text[], \(anomalies.map(\.severity.rawValue))::text[],
                        \(anomalies.map { $0.observationID.map(String.init) ?? "" })::text[],
                        \(anomalies.map { $0.passID.map(String.init) ?? "" })::text[], \(packetIDText)::text[],
                        \(anomalies.map { $0.fileOffset.map(String.init) ?? "" })::text[],
                        \(anomalies.map(\.evidenceJSON))::text[], \(anomalies.map(\.dedupKey))::text[])
                 AS a(kind, severity, obs, pass, pkt, off, evidence, key)
            ON CONFLICT (dedup_key) DO NOTHING
            """, logger: logger)
    }
}
