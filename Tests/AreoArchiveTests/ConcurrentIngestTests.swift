import AreoArchive
import AreoTestSupport
import AreoTelemetry
import Foundation
import PostgresNIO
import Testing

/// Two passes carrying the same packets, ingested at the same time: the conflict-free insert of
/// one of them meets the other's rows (unique violation) and the batch is written again the
/// careful way. Every packet ends up stored once, with one reception per delivery.
@Suite struct ConcurrentIngestTests {
    @Test(arguments: [7, 40])
    func overlappingPassesIngestedConcurrentlyStoreEachPacketOnce(batchSize: Int) async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await MigrationRunner(client: database.client, logger: logger).migrate(Migration.load(from: TestDatabase.migrationsDirectory))
            let original = try [UInt8](Data(contentsOf: SampleMissionIngestTests.samples.appendingPathComponent("tiny-clean/pass_001.dds")))
            // The same records plus one idle packet at the end: another file, the same packets.
            var writer = PassFileWriter()
            writer.append(SpacePacket.make(
                apid: SpacePacket.APID.idle, flags: .unsegmented, sequenceCount: 0, sclk: SpacecraftClock(coarse: 1, fine: 0),
                serviceType: 0, serviceSubtype: 0, userData: [0, 0]), ertMicroseconds: 1)
            let twin = original + writer.drain()
            let expectedRecords = PassFileScanner(bytes: original).scan().count { if case .record = $0 { true } else { false } }

            let ingestor = { var i = PassIngestor(database: database, logger: logger); i.batchSize = batchSize; return i }()
            let reports = try await withThrowingTaskGroup(of: PassIngestor.Report.self) { group in
                group.addTask { try await ingestor.ingest(bytes: original, fileName: "a.dds") }
                group.addTask { try await ingestor.ingest(bytes: twin, fileName: "b.dds") }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.map(\.records).sorted() == [expectedRecords, expectedRecords + 1])

            func count(_ sql: String) async throws -> Int {
                let rows = try await database.client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                for try await n in rows.decode(Int.self) { return n }
                return -1
            }
            let packets = try await count("SELECT count(*)::int8 FROM packets")
            let distinctIdentities = try await count(
                "SELECT count(DISTINCT (apid, sequence_count, sclk_coarse_raw, sclk_fine, content_hash))::int8 FROM packets")
            let receptions = try await count("SELECT count(*)::int8 FROM receptions")
            let orphanReceptions = try await count("SELECT count(*)::int8 FROM receptions r WHERE NOT EXISTS (SELECT 1 FROM packets p WHERE p.id = r.packet_id)")
            let nonIdle = PassFileScanner(bytes: original).scan().count {
                if case .record(let record) = $0 { record.packet.apid != SpacePacket.APID.idle } else { false }
            }
            #expect(packets == distinctIdentities)
            #expect(packets == nonIdle)
            #expect(receptions == 2 * nonIdle)
            #expect(orphanReceptions == 0)
        }
    }
}
