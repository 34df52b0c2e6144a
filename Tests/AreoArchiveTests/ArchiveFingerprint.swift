import AreoArchive
import AreoTestSupport
import PostgresNIO

/// The logical content of the telemetry archive: every table's rows by their natural keys
/// (surrogate ids, which a rolled-back insert may consume, are left out), digested.
enum ArchiveFingerprint {
    static let queries: [(String, String)] = [
        ("passes", "SELECT file_name, encode(sha256, 'hex'), records, damaged_bytes, completed_at IS NOT NULL FROM passes ORDER BY 2"),
        ("packets", """
            SELECT apid, sequence_count, sclk_coarse_raw, sclk_fine, wrap_correction, sclk, crc_ok, encode(content_hash, 'hex'),
                   md5(bytes), (SELECT file_name FROM passes WHERE id = first_pass_id), first_ert_us,
                   (SELECT observation_id || '/' || framelet_index || '/' || band FROM fragments f JOIN fragment_packets fp ON fp.fragment_id = f.id WHERE fp.packet_id = packets.id)
            FROM packets ORDER BY apid, sclk, sequence_count, 8
            """),
        ("receptions", """
            SELECT s.file_name, r.file_offset, encode(p.content_hash, 'hex'), r.ert_us, r.station_id, r.virtual_channel, r.time_quality
            FROM receptions r JOIN passes s ON s.id = r.pass_id JOIN packets p ON p.id = r.packet_id ORDER BY 1, 2
            """),
        ("fragments", """
            SELECT observation_id, framelet_index, band, status, problems, missing_packets, exposure_start_raw, exposure_start,
                   byte_count, packet_count FROM fragments ORDER BY 1, 2, 3
            """),
        ("housekeeping", """
            SELECT encode(p.content_hash, 'hex'), h.channel_id, h.sclk, h.raw, h.value
            FROM housekeeping h JOIN packets p ON p.id = h.packet_id ORDER BY 1, 2
            """),
        ("anomalies", """
            SELECT a.kind, a.severity, a.observation_id, s.file_name, a.file_offset, encode(p.content_hash, 'hex')
            FROM anomalies a LEFT JOIN passes s ON s.id = a.pass_id LEFT JOIN packets p ON p.id = a.packet_id
            ORDER BY 1, 2, 3, 4, 5, 6
            """),
        ("stream_state", "SELECT * FROM stream_state ORDER BY apid"),
        ("reassembly_pending", "SELECT encode(p.content_hash, 'hex'), r.sclk FROM reassembly_pending r JOIN packets p ON p.id = r.packet_id ORDER BY 2, 1"),
    ]

    static func of(_ database: Database) async throws -> [String] {
        var result: [String] = []
        for (table, query) in queries {
            let rows = try await database.client.query(
                "SELECT count(*)::int8, coalesce(md5(string_agg(t::text, '|')), '') FROM (\(unescaped: query)) t",
                logger: TestDatabase.logger)
            for try await (n, digest) in rows.decode((Int, String).self) { result.append("\(table): \(n) rows, \(digest)") }
        }
        return result
    }
}
