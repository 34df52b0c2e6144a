import AreoTelemetry
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Reassembles fragments from the stored APID 1200 packets that are not yet part of a complete
/// fragment, in generation order (corrected SCLK, then sequence count). A fragment left open or
/// incomplete by one pass is completed when a later pass brings the rest.
struct Reassembler {
    let connection: PostgresConnection
    let logger: Logger

    struct Outcome {
        var observations = Set<Int>()
        var completed = 0
    }

    /// A packet as the assembler knows it: its id and corrected time.
    struct PacketRef: Hashable, Sendable {
        let id: Int
        let sclk: Double
    }

    /// Pending packets read per query: memory holds one page and one open fragment, whatever
    /// the size of the pass.
    var pageSize = 20_000

    func reassemble() async throws -> Outcome {
        var assembler = FragmentAssembler<PacketRef>()
        var outcome = Outcome()
        var after: (sclk: Double, sequence: Int, id: Int) = (-Double.greatestFiniteMagnitude, -1, -1)
        while true {
            let page = try await connection.query(
                """
                SELECT p.id, p.sequence_flags, p.sequence_count, p.crc_ok, p.bytes, p.sclk
                FROM reassembly_pending r JOIN packets p ON p.id = r.packet_id
                WHERE (r.sclk, r.sequence_count, r.packet_id) > (\(after.sclk), \(after.sequence), \(after.id))
                ORDER BY r.sclk, r.sequence_count, r.packet_id
                LIMIT \(pageSize)
                """, logger: logger)
            var count = 0
            for try await (id, flags, seq, crcOK, bytes, sclk) in page.decode((Int, Int, Int, Bool, ByteBuffer, Double).self) {
                count += 1
                after = (sclk, seq, id)
                let packet = Array(bytes.readableBytesView)
                guard packet.count >= SpacePacket.minimumSize else { continue }
                assembler.add(.init(
                    reference: PacketRef(id: id, sclk: sclk), flags: SpacePacket.SequenceFlags(rawValue: UInt8(flags)) ?? .continuation,
                    sequenceCount: UInt16(seq), crcValid: crcOK, userData: packet[SpacePacket.headerSize..<(packet.count - 2)]))
            }
            if count < pageSize { assembler.close() }
            try await write(assembler.drain(), into: &outcome)
            if count < pageSize { break }
        }
        return outcome
    }

    /// Writes finished (or still open) fragments and records orphans.
    /// Writes fragments; orphans are recorded as anomalies unless this is the in-stream pass
    /// (where they simply wait, pending, for the reassembly at the end of the pass).
    /// - Parameters:
    ///   - packetsAreNew: every packet was inserted by this transaction, so none is in a fragment
    ///     yet and the membership rows are copied in without `ON CONFLICT`.
    ///   - mayBePending: when given, the only packets that can be waiting in `reassembly_pending`
    ///     (in-stream reassembly knows which: those carried over from earlier batches); the
    ///     others need not be looked for there.
    func write(
        _ result: FragmentAssembler<PacketRef>.Result, into outcome: inout Outcome, recordOrphans: Bool = true, packetsAreNew: Bool = false,
        mayBePending: Set<Int>? = nil
    ) async throws {
        var result = result
        if !recordOrphans { result.orphans = [] }
        var orphanAnomalies: [Anomaly] = []
        struct Row {
            let header: FragmentHeader
            let fragment: FragmentAssembler<PacketRef>.Fragment
            let correctedStart: Double
            let headerJSON: String
        }
        var rows: [Row] = []
        let encoder = JSONEncoder()
        for fragment in result.fragments {
            guard let header = fragment.header, let firstID = fragment.references.first else {
                orphanAnomalies.append(orphanAnomaly(fragment.references.map(\.id), reason: "fragment shorter than its header"))
                continue
            }
            // The exposure starts shortly before its first packet is generated, so the header's
            // start is off by the whole periods that separate it from that packet's corrected time
            // (an exposure begun before the wrap moment carries a good start even when its packets
            // carry wrapped stamps).
            let firstPacketTime = firstID.sclk
            let headerWraps = Int(((header.exposureStart.seconds - firstPacketTime) / SpacecraftClock.wrapPeriod).rounded())
            let corrected = header.exposureStart.shifted(byWraps: headerWraps).seconds
            rows.append(Row(header: header, fragment: fragment, correctedStart: corrected,
                            headerJSON: String(decoding: try encoder.encode(header), as: UTF8.self)))
        }
        // Two fragments of one identity in this set (a retransmitted observation): keep the best.
        var best: [String: Int] = [:]
        let rank: [FragmentAssembler<PacketRef>.Status: Int] = [.complete: 3, .corrupt: 2, .open: 1, .incomplete: 0]
        for (index, row) in rows.enumerated() {
            let key = "\(row.header.observationID)/\(row.header.frameletIndex)/\(row.header.bandCode)"
            if let other = best[key], rank[rows[other].fragment.status]! >= rank[row.fragment.status]! { continue }
            best[key] = index
        }
        rows = best.values.sorted().map { rows[$0] }
        guard !rows.isEmpty else {
            if !result.orphans.isEmpty { orphanAnomalies.append(orphanAnomaly(result.orphans.map(\.id), reason: "no first segment before them")) }
            try await AnomalyRecorder.insert(orphanAnomalies, connection: connection, logger: logger)
            return
        }
        let changed = try await connection.query(
            """
            INSERT INTO fragments (observation_id, framelet_index, band, compression, status, problems, missing_packets,
                                   exposure_start_raw, exposure_start, header, byte_count, first_packet_id, packet_count)
            SELECT obs, k, band, comp, status, string_to_array(problems, E'\\n'), missing, raw, corrected, header::jsonb, byte_count, first, n
            FROM unnest(\(rows.map { Int($0.header.observationID) })::int8[], \(rows.map { Int($0.header.frameletIndex) })::int4[],
                        \(rows.map { Int($0.header.bandCode) })::int2[], \(rows.map { Int($0.header.compressionCode) })::int2[],
                        \(rows.map(\.fragment.status.rawValue))::text[], \(rows.map { $0.fragment.problems.joined(separator: "\n") })::text[],
                        \(rows.map(\.fragment.missingPackets))::int4[], \(rows.map(\.header.exposureStart.seconds))::float8[],
                        \(rows.map(\.correctedStart))::float8[], \(rows.map(\.headerJSON))::text[],
                        \(rows.map(\.fragment.bytes.count))::int4[], \(rows.map { $0.fragment.references[0].id })::int8[],
                        \(rows.map(\.fragment.references.count))::int4[])
                 AS f(obs, k, band, comp, status, problems, missing, raw, corrected, header, byte_count, first, n)
            ON CONFLICT (observation_id, framelet_index, band) DO UPDATE SET
                compression = EXCLUDED.compression, status = EXCLUDED.status, problems = EXCLUDED.problems,
                missing_packets = EXCLUDED.missing_packets, exposure_start_raw = EXCLUDED.exposure_start_raw,
                exposure_start = EXCLUDED.exposure_start, header = EXCLUDED.header, byte_count = EXCLUDED.byte_count,
                first_packet_id = EXCLUDED.first_packet_id, packet_count = EXCLUDED.packet_count, updated_at = now()
            WHERE fragments.status <> 'complete'
            RETURNING id, first_packet_id, status
            """, logger: logger)
        var fragmentOfFirstPacket: [Int: Int] = [:]
        for try await (id, first, status) in changed.decode((Int, Int, String).self) {
            fragmentOfFirstPacket[first] = id
            if status == "complete" { outcome.completed += 1 }
        }
        var packetIDs: [Int] = [], fragmentIDs: [Int] = [], settled: [Int] = []
        for row in rows {
            let references = row.fragment.references.map(\.id)
            guard let id = fragmentOfFirstPacket[references[0]] else {
                // A complete fragment of that identity exists already: these packets are superseded.
                settled.append(contentsOf: references)
                continue
            }
            outcome.observations.insert(Int(row.header.observationID))
            packetIDs.append(contentsOf: references)
            fragmentIDs.append(contentsOf: repeatElement(id, count: references.count))
            if row.fragment.status == .complete { settled.append(contentsOf: references) }
        }
        if !packetIDs.isEmpty {
            try await connection.query(
                "DELETE FROM fragment_packets WHERE fragment_id = ANY(\(Array(Set(fragmentIDs)))::int8[])", logger: logger)
            if packetsAreNew {
                var rows = CopyBinaryRows(columns: 2, capacity: packetIDs.count * 30)
                for (packet, fragment) in zip(packetIDs, fragmentIDs) {
                    rows.startRow()
                    rows.append(Int64(packet))
                    rows.append(Int64(fragment))
                }
                try await rows.copy(into: "fragment_packets", columns: ["packet_id", "fragment_id"], connection: connection, logger: logger)
            } else {
                try await connection.query(
                    """
                    INSERT INTO fragment_packets (packet_id, fragment_id) SELECT * FROM unnest(\(packetIDs)::int8[], \(fragmentIDs)::int8[])
                    ON CONFLICT (packet_id) DO UPDATE SET fragment_id = EXCLUDED.fragment_id
                    """, logger: logger)
            }
        }
        if let mayBePending { settled = settled.filter { mayBePending.contains($0) } }
        if !settled.isEmpty {
            try await connection.query("DELETE FROM reassembly_pending WHERE packet_id = ANY(\(settled)::int8[])", logger: logger)
        }
        if !result.orphans.isEmpty { orphanAnomalies.append(orphanAnomaly(result.orphans.map(\.id), reason: "no first segment before them")) }
        try await AnomalyRecorder.insert(orphanAnomalies, connection: connection, logger: logger)
    }

    private func orphanAnomaly(_ ids: [Int], reason: String) -> Anomaly {
        Anomaly(
            kind: .orphanPackets, severity: .warning,
            evidence: ["packet_ids": ids.map(String.init).joined(separator: ","), "reason": reason, "count": String(ids.count)],
            dedupKey: "orphan_packets:\(ids.first ?? 0)")
    }
}
