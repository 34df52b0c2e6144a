import AreoStore
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

    func reassemble() async throws -> Outcome {
        let rows = try await connection.query(
            """
            SELECT p.id, p.sequence_flags, p.sequence_count, p.crc_ok, p.bytes, p.sclk
            FROM packets p LEFT JOIN fragments f ON f.id = p.fragment_id
            WHERE p.apid = \(Int(SpacePacket.APID.science)) AND (p.fragment_id IS NULL OR f.status <> 'complete')
            ORDER BY p.sclk, p.sequence_count
            """, logger: logger)
        var pieces: [FragmentAssembler<Int>.Piece] = []
        var firstPacketSCLK: [Int: Double] = [:]
        for try await (id, flags, seq, crcOK, bytes, sclk) in rows.decode((Int, Int, Int, Bool, ByteBuffer, Double).self) {
            let packet = Array(bytes.readableBytesView)
            guard packet.count >= SpacePacket.minimumSize else { continue }
            pieces.append(.init(
                reference: id, flags: SpacePacket.SequenceFlags(rawValue: UInt8(flags)) ?? .continuation,
                sequenceCount: UInt16(seq), crcValid: crcOK, userData: packet[SpacePacket.headerSize..<(packet.count - 2)]))
            firstPacketSCLK[id] = sclk
        }
        let result = FragmentAssembler<Int>().assemble(pieces)
        var outcome = Outcome()
        var orphanAnomalies: [Anomaly] = []
        for fragment in result.fragments {
            guard let header = fragment.header, let firstID = fragment.references.first else {
                orphanAnomalies.append(orphanAnomaly(fragment.references, reason: "fragment shorter than its header"))
                continue
            }
            // The exposure starts shortly before its first packet is generated, so the header's
            // start is off by the whole periods that separate it from that packet's corrected time
            // (an exposure begun before the wrap moment carries a good start even when its packets
            // carry wrapped stamps).
            let firstPacketTime = firstPacketSCLK[firstID] ?? header.exposureStart.seconds
            let headerWraps = Int(((header.exposureStart.seconds - firstPacketTime) / SpacecraftClock.wrapPeriod).rounded())
            let corrected = header.exposureStart.shifted(byWraps: headerWraps).seconds
            let headerJSON = String(decoding: try JSONEncoder().encode(header), as: UTF8.self)
            let status = fragment.status.rawValue
            let changed = try await connection.query(
                """
                INSERT INTO fragments (observation_id, framelet_index, band, compression, status, problems, missing_packets,
                                       exposure_start_raw, exposure_start, header, bytes, first_packet_id, packet_count)
                VALUES (\(Int(header.observationID)), \(Int(header.frameletIndex)), \(Int(header.bandCode)), \(Int(header.compressionCode)),
                        \(status), \(fragment.problems), \(fragment.missingPackets), \(header.exposureStart.seconds), \(corrected),
                        \(headerJSON)::jsonb, \(ByteBuffer(bytes: fragment.bytes)), \(firstID), \(fragment.references.count))
                ON CONFLICT (observation_id, framelet_index, band) DO UPDATE SET
                    compression = EXCLUDED.compression, status = EXCLUDED.status, problems = EXCLUDED.problems,
                    missing_packets = EXCLUDED.missing_packets, exposure_start_raw = EXCLUDED.exposure_start_raw,
                    exposure_start = EXCLUDED.exposure_start, header = EXCLUDED.header, bytes = EXCLUDED.bytes,
                    first_packet_id = EXCLUDED.first_packet_id, packet_count = EXCLUDED.packet_count, updated_at = now()
                WHERE fragments.status <> 'complete'
                RETURNING id
                """, logger: logger)
            var fragmentID: Int? = nil
            for try await id in changed.decode(Int.self) { fragmentID = id }
            guard let fragmentID else { continue }  // a complete fragment of that identity exists already
            try await connection.query(
                "UPDATE packets SET fragment_id = \(fragmentID) WHERE id = ANY(\(fragment.references)::int8[])", logger: logger)
            outcome.observations.insert(Int(header.observationID))
            if fragment.status == .complete { outcome.completed += 1 }
        }
        if !result.orphans.isEmpty { orphanAnomalies.append(orphanAnomaly(result.orphans, reason: "no first segment before them")) }
        try await PassIngestor.insertAnomalies(orphanAnomalies, packetIDs: [:], connection: connection, logger: logger)
        return outcome
    }

    private func orphanAnomaly(_ ids: [Int], reason: String) -> Anomaly {
        Anomaly(
            kind: .orphanPackets, severity: .warning,
            evidence: ["packet_ids": ids.map(String.init).joined(separator: ","), "reason": reason, "count": String(ids.count)],
            dedupKey: "orphan_packets:\(ids.first ?? 0)")
    }
}
