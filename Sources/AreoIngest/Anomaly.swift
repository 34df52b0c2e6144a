import PostgresNIO
import AreoStore
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

/// Records anomalies found outside ingest (processing), idempotently by their dedup keys.
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
            try await PassIngestor.insertAnomalies(anomalies, packetIDs: [:], connection: connection, logger: logger)
        }
    }
}
