import AreoTelemetry
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The operations team's reports: completeness per observation, anomalies, daily health, and
/// packet queries. Every report is `Codable`; its JSON form is documented in docs/operations.md.
public struct Reports: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    // MARK: Completeness

    public struct ObservationCompleteness: Sendable, Codable, Equatable {
        public var observationID: Int
        public var status: PlanComparison.Status
        public var expectedFragments: Int
        public var receivedFragments: Int
        public var completeFragments: Int
        public var incompleteFragments: Int
        public var corruptFragments: Int
        public var missingFragments: Int
        public var unexpectedFragments: Int
        public var headerMismatches: Int
        public var clockWrapCorrected: Bool
        public var findings: [Finding]

        public struct Finding: Sendable, Codable, Equatable {
            public var kind: String
            public var framelet: Int
            public var band: String
            public var detail: String
        }

        enum CodingKeys: String, CodingKey {
            case status, findings
            case observationID = "observation_id"
            case expectedFragments = "expected_fragments"
            case receivedFragments = "received_fragments"
            case completeFragments = "complete_fragments"
            case incompleteFragments = "incomplete_fragments"
            case corruptFragments = "corrupt_fragments"
            case missingFragments = "missing_fragments"
            case unexpectedFragments = "unexpected_fragments"
            case headerMismatches = "header_mismatches"
            case clockWrapCorrected = "clock_wrap_corrected"
        }
    }

    public struct CompletenessReport: Sendable, Codable, Equatable {
        public var observations: [ObservationCompleteness]
        public var anomalies: [AnomalyRow]
    }

    /// The plan comparisons (status, arrivals, findings) of `observations`, in a fixed number of
    /// queries whatever their number.
    public func comparisons(observationIDs observations: [Int]) async throws -> [Int: PlanComparison] {
        try await CompletenessEvaluator.comparisons(for: observations) { try await database.client.query($0, logger: logger) }
    }

    /// Completeness of every observation (planned or not), or of those with packets in `passID`,
    /// or of one observation; with the anomalies that concern them (and the pass).
    public func completeness(passID: Int? = nil, observationID: Int? = nil) async throws -> CompletenessReport {
        var ids = Set<Int>()
        if let observationID {
            ids.insert(observationID)
        } else if let passID {
            ids = try await idSet("""
                SELECT DISTINCT f.observation_id FROM fragments f JOIN fragment_packets fp ON fp.fragment_id = f.id
                JOIN receptions r ON r.packet_id = fp.packet_id WHERE r.pass_id = \(passID)
                """)
        } else {
            ids = try await idSet("SELECT observation_id FROM plans UNION SELECT observation_id FROM fragments")
        }
        let wrapped = try await idSet("SELECT DISTINCT observation_id FROM anomalies WHERE kind = 'clock_wrap' AND observation_id IS NOT NULL")
        var observations: [ObservationCompleteness] = []
        let comparisons = try await comparisons(observationIDs: ids.sorted())
        for id in ids.sorted() {
            guard let comparison = comparisons[id] else { continue }
            let findings = comparison.findings
            func count(_ kind: PlanComparison.Finding.Kind) -> Int { findings.filter { $0.kind == kind }.count }
            observations.append(ObservationCompleteness(
                observationID: id, status: comparison.status, expectedFragments: comparison.plan?.expectedFragments ?? 0,
                receivedFragments: comparison.arrivals.count,
                completeFragments: comparison.arrivals.filter { $0.status == .complete }.count,
                incompleteFragments: count(.fragmentIncomplete), corruptFragments: count(.fragmentCorrupt),
                missingFragments: count(.fragmentMissing), unexpectedFragments: count(.fragmentUnexpected),
                headerMismatches: count(.headerMismatch), clockWrapCorrected: wrapped.contains(id),
                findings: findings.map { .init(kind: $0.kind.rawValue, framelet: $0.frameletIndex, band: $0.band, detail: $0.detail) }))
        }
        let anomalies: [AnomalyRow]
        if let observationID {
            anomalies = try await self.anomalies(observationID: observationID)
        } else if let passID {
            anomalies = try await self.anomalies(passID: passID)
        } else {
            anomalies = try await self.anomalies()
        }
        return CompletenessReport(observations: observations, anomalies: anomalies)
    }

    // MARK: Anomalies

    public struct AnomalyRow: Sendable, Codable, Equatable {
        public var id: Int
        public var kind: String
        public var severity: String
        public var observationID: Int?
        public var passID: Int?
        public var packetID: Int?
        public var fileOffset: Int?
        public var evidence: [String: String]
        public var detectedAt: String

        enum CodingKeys: String, CodingKey {
            case id, kind, severity, evidence
            case observationID = "observation_id"
            case passID = "pass_id"
            case packetID = "packet_id"
            case fileOffset = "file_offset"
            case detectedAt = "detected_at"
        }
    }

    /// Anomalies, optionally of one pass or one observation, oldest first.
    public func anomalies(passID: Int? = nil, observationID: Int? = nil) async throws -> [AnomalyRow] {
        let columns = """
            SELECT id, kind, severity, observation_id, pass_id, packet_id, file_offset, evidence::text,
                   to_char(detected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM anomalies
            """
        let query: PostgresQuery
        switch (passID, observationID) {
        case (let p?, _): query = "\(unescaped: columns) WHERE pass_id = \(p) ORDER BY id"
        case (nil, let o?): query = "\(unescaped: columns) WHERE observation_id = \(o) ORDER BY id"
        case (nil, nil): query = "\(unescaped: columns) ORDER BY id"
        }
        var result: [AnomalyRow] = []
        let rows = try await database.client.query(query, logger: logger)
        for try await (id, kind, severity, obs, pass, packet, offset, evidence, at) in rows.decode((Int, String, String, Int?, Int?, Int?, Int?, String, String).self) {
            let parsed = (try? JSONDecoder().decode([String: String].self, from: Data(evidence.utf8))) ?? [:]
            result.append(AnomalyRow(id: id, kind: kind, severity: severity, observationID: obs, passID: pass, packetID: packet, fileOffset: offset, evidence: parsed, detectedAt: at))
        }
        return result
    }

    // MARK: Health

    public struct HealthReport: Sendable, Codable, Equatable {
        public struct ChannelSynopsis: Sendable, Codable, Equatable {
            public var channelID: Int
            public var name: String
            public var unit: String
            public var samples: Int
            public var min: Double
            public var max: Double
            public var mean: Double
            public var yellowViolations: Int
            public var redViolations: Int

            enum CodingKeys: String, CodingKey {
                case name, unit, samples, min, max, mean
                case channelID = "channel_id"
                case yellowViolations = "yellow_violations"
                case redViolations = "red_violations"
            }
        }
        public var day: String
        public var channels: [ChannelSynopsis]
        /// The last value of CMDS_PENDING that day, if the channel exists.
        public var commandsPending: Double?
        public var violations: [AnomalyRow]

        enum CodingKeys: String, CodingKey {
            case day, channels, violations
            case commandsPending = "commands_pending"
        }
    }

    /// The daily synopsis of housekeeping for a UTC day (by earth received time of the packets).
    public func health(day: String) async throws -> HealthReport {
        guard let start = GroundTime.parse(day + "T00:00:00Z") else {
            throw IngestError(.invalidArgument, file: "--day", "day must be YYYY-MM-DD, is '\(day)'")
        }
        let from = Int64(start.timeIntervalSince1970 * 1e6), to = from + 86_400_000_000
        let rows = try await database.client.query(
            """
            SELECT c.channel_id, c.name, c.unit, count(h.value)::int8, min(h.value), max(h.value), avg(h.value),
                   count(*) FILTER (WHERE (h.value < c.yellow[1] OR h.value > c.yellow[2]) AND NOT (h.value < c.red[1] OR h.value > c.red[2]))::int8,
                   count(*) FILTER (WHERE h.value < c.red[1] OR h.value > c.red[2])::int8
            FROM housekeeping h JOIN packets p ON p.id = h.packet_id JOIN housekeeping_channels c ON c.channel_id = h.channel_id
            WHERE p.first_ert_us >= \(from) AND p.first_ert_us < \(to)
            GROUP BY c.channel_id, c.name, c.unit ORDER BY c.channel_id
            """, logger: logger)
        var channels: [HealthReport.ChannelSynopsis] = []
        for try await (id, name, unit, n, lo, hi, mean, yellow, red) in rows.decode((Int, String, String, Int, Double, Double, Double, Int, Int).self) {
            channels.append(.init(channelID: id, name: name, unit: unit, samples: n, min: lo, max: hi, mean: mean, yellowViolations: yellow, redViolations: red))
        }
        var pending: Double? = nil
        let last = try await database.client.query(
            """
            SELECT h.value FROM housekeeping h JOIN packets p ON p.id = h.packet_id JOIN housekeeping_channels c ON c.channel_id = h.channel_id
            WHERE c.name = 'CMDS_PENDING' AND p.first_ert_us >= \(from) AND p.first_ert_us < \(to) ORDER BY h.sclk DESC LIMIT 1
            """, logger: logger)
        for try await v in last.decode(Double.self) { pending = v }
        let violations = try await anomalies().filter { row in
            guard row.kind == Anomaly.Kind.housekeepingRed.rawValue || row.kind == Anomaly.Kind.housekeepingYellow.rawValue else { return false }
            return row.packetID != nil
        }
        let dayPackets = try await idSet("SELECT id FROM packets WHERE apid = 1201 AND first_ert_us >= \(from) AND first_ert_us < \(to)")
        return HealthReport(day: day, channels: channels, commandsPending: pending, violations: violations.filter { dayPackets.contains($0.packetID!) })
    }

    // MARK: Packet queries

    public struct PacketRow: Sendable, Codable, Equatable {
        public var id: Int
        public var apid: Int
        public var sequenceCount: Int
        public var sclkRaw: String
        public var sclk: Double
        public var wrapCorrection: Int
        public var crcOK: Bool
        public var length: Int
        public var firstERT: String
        public var passID: Int
        public var fragmentID: Int?

        enum CodingKeys: String, CodingKey {
            case id, apid, sclk, length
            case sequenceCount = "sequence_count"
            case sclkRaw = "sclk_raw"
            case wrapCorrection = "wrap_correction"
            case crcOK = "crc_ok"
            case firstERT = "first_ert"
            case passID = "pass_id"
            case fragmentID = "fragment_id"
        }
    }

    /// Packets of an APID in a (corrected) SCLK range, or of any APID in an ERT range (Unix µs).
    public func packets(apid: Int?, sclk: ClosedRange<Double>?, ertMicroseconds: ClosedRange<Int64>?, limit: Int = 1000) async throws -> [PacketRow] {
        let apidFilter = apid ?? -1
        let s = sclk ?? -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
        let e = ertMicroseconds ?? Int64.min...Int64.max
        let rows = try await database.client.query(
            """
            SELECT id, apid, sequence_count, sclk_coarse_raw::text || '.' || sclk_fine::text, sclk, wrap_correction, crc_ok,
                   octet_length(bytes), first_ert_us, first_pass_id,
                   (SELECT fragment_id FROM fragment_packets fp WHERE fp.packet_id = packets.id)
            FROM packets
            WHERE (\(apidFilter) < 0 OR apid = \(apidFilter)) AND sclk BETWEEN \(s.lowerBound) AND \(s.upperBound)
              AND first_ert_us BETWEEN \(e.lowerBound) AND \(e.upperBound)
            ORDER BY sclk, sequence_count LIMIT \(limit)
            """, logger: logger)
        var result: [PacketRow] = []
        for try await (id, apid, seq, raw, sclk, wrap, crc, length, ert, pass, fragment) in rows.decode((Int, Int, Int, String, Double, Int, Bool, Int, Int64, Int, Int?).self) {
            let ertText = GroundTime.iso8601(Date(timeIntervalSince1970: Double(ert) / 1e6))
            result.append(PacketRow(id: id, apid: apid, sequenceCount: seq, sclkRaw: raw, sclk: sclk, wrapCorrection: wrap, crcOK: crc, length: length, firstERT: ertText, passID: pass, fragmentID: fragment))
        }
        return result
    }

    public struct FragmentRow: Sendable, Codable, Equatable {
        public var observationID: Int
        public var framelet: Int
        public var band: String
        public var compression: String
        public var status: String
        public var exposureStart: Double
        public var exposureStartRaw: Double
        public var bytes: Int
        public var packets: Int
        public var firstERT: String

        enum CodingKeys: String, CodingKey {
            case framelet, band, compression, status, bytes, packets
            case observationID = "observation_id"
            case exposureStart = "exposure_start_sclk"
            case exposureStartRaw = "exposure_start_sclk_raw"
            case firstERT = "first_ert"
        }
    }

    /// Fragments whose (corrected) exposure start is in an SCLK range, or whose first packet was
    /// received in an ERT range (Unix µs).
    public func fragments(sclk: ClosedRange<Double>?, ertMicroseconds: ClosedRange<Int64>?, limit: Int = 1000) async throws -> [FragmentRow] {
        let s = sclk ?? -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
        let e = ertMicroseconds ?? Int64.min...Int64.max
        let rows = try await database.client.query(
            """
            SELECT f.observation_id, f.framelet_index, f.band, f.compression, f.status, f.exposure_start, f.exposure_start_raw,
                   f.byte_count, f.packet_count, p.first_ert_us
            FROM fragments f JOIN packets p ON p.id = f.first_packet_id
            WHERE f.exposure_start BETWEEN \(s.lowerBound) AND \(s.upperBound) AND p.first_ert_us BETWEEN \(e.lowerBound) AND \(e.upperBound)
            ORDER BY f.exposure_start, f.band LIMIT \(limit)
            """, logger: logger)
        var result: [FragmentRow] = []
        for try await (obs, k, band, compression, status, start, raw, bytes, packets, ert) in rows.decode((Int, Int, Int, Int, String, Double, Double, Int, Int, Int64).self) {
            result.append(FragmentRow(
                observationID: obs, framelet: k, band: Band(rawValue: UInt8(band))?.name ?? String(band),
                compression: Compression(rawValue: UInt8(compression))?.name ?? String(compression), status: status,
                exposureStart: start, exposureStartRaw: raw, bytes: bytes, packets: packets,
                firstERT: GroundTime.iso8601(Date(timeIntervalSince1970: Double(ert) / 1e6))))
        }
        return result
    }

    private func idSet(_ query: PostgresQuery) async throws -> Set<Int> {
        var result = Set<Int>()
        for try await id in try await database.client.query(query, logger: logger).decode(Int.self) { result.insert(id) }
        return result
    }
}
