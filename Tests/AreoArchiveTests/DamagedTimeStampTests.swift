import AreoArchive
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

/// A bit flip in a science packet's time stamp (its CRC fails) must not misplace the packet:
/// the fragment is reported corrupt, with no orphan packets and no false sequence gap.
@Suite struct DamagedTimeStampTests {
    @Test(arguments: [8, 11])  // a high bit of the coarse SCLK; a high bit of the fine SCLK
    func aDamagedTimeStampDoesNotMisplaceItsPacket(byte: Int) async throws {
        let payload = (0..<(4 * 1008)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let header = FragmentHeader(
            observationID: 77, frameletIndex: 0, band: .pan, compression: .none, exposureStart: SpacecraftClock(coarse: 800_000_000, fine: 0),
            exposureDurationMicroseconds: 1500, windowFirstRow: 0, windowRows: 2, windowFirstColumn: 0, windowColumns: UInt16(payload.count / 4),
            bitsPerSample: 14, binning: 1, rotationAngleCentidegrees: 0, frameletsPlannedPerBand: 1, payloadLength: UInt32(payload.count),
            payloadCRC: CRC32.checksum(payload), detectorTemperatureCentidegrees: 0)
        var writer = PassFileWriter()
        let packets = writer.fragmentPackets(header.bytes + payload, sclk: SpacecraftClock(coarse: 800_000_000, fine: 100))
        #expect(packets.count == 5)
        for (index, packet) in packets.enumerated() {
            var bytes = packet.bytes
            if index == 2 { bytes[byte] ^= 0x80 }  // the secondary header starts at byte 6
            writer.append(SpacePacket(bytes: bytes), ertMicroseconds: 1_780_000_000_000_000 + Int64(index) * 1000)
        }
        let pass = writer.drain()
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await MigrationRunner(client: database.client, logger: logger).migrate(Migration.load(from: TestDatabase.migrationsDirectory))
            let report = try await PassIngestor(database: database, logger: logger).ingest(bytes: pass, fileName: "flip.dds")
            #expect(report.crcErrors == 1)
            let kinds = try await Reports(database: database, logger: logger).anomalies().map(\.kind).sorted()
            #expect(kinds == ["fragment_corrupt", "packet_crc_error"])
            let fragments = try await Reports(database: database, logger: logger).fragments(sclk: nil, ertMicroseconds: nil)
            #expect(fragments.count == 1 && fragments.first?.packets == 5)
        }
    }
}
