import AreoArchive
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

/// Sequence gaps at the seam between passes: each pass below is an unbroken run (checked only at
/// its ends), a missing packet between two passes is a gap, and the pass that later delivers it
/// clears the gap; a pass with a hole inside is checked across its whole span.
@Suite struct PassSeamGapTests {
    static func pass(_ sequenceCounts: [Int]) -> [UInt8] {
        var writer = PassFileWriter()
        for n in sequenceCounts {
            let packet = SpacePacket.make(
                apid: SpacePacket.APID.housekeeping, flags: .unsegmented, sequenceCount: UInt16(n),
                sclk: SpacecraftClock(coarse: UInt32(900_000_000 + n), fine: 0), serviceType: 3, serviceSubtype: 25, userData: [0, 1, 0, 1, 0x4E, 0x20])
            writer.append(packet, ertMicroseconds: 1_790_000_000_000_000 + Int64(n) * 1_000_000)
        }
        return writer.drain()
    }

    @Test func gapsBetweenPassesAreFoundAndClearedWhenFilled() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await MigrationRunner(client: database.client, logger: logger).migrate(Migration.load(from: TestDatabase.migrationsDirectory))
            let ingestor = PassIngestor(database: database, logger: logger)
            let reports = Reports(database: database, logger: logger)
            func gaps() async throws -> [String] {
                try await reports.anomalies().filter { $0.kind == "sequence_gap" }
                    .map { "\($0.evidence["after_sequence_count"]!)-\($0.evidence["before_sequence_count"]!)" }.sorted()
            }
            _ = try await ingestor.ingest(bytes: Self.pass(Array(0...9)), fileName: "a.dds")
            #expect(try await gaps().isEmpty)
            _ = try await ingestor.ingest(bytes: Self.pass(Array(12...20)), fileName: "b.dds")  // 10 and 11 never came
            #expect(try await gaps() == ["9-12"])
            _ = try await ingestor.ingest(bytes: Self.pass([10, 11]), fileName: "c.dds")  // a later pass delivers them
            #expect(try await gaps().isEmpty)
            _ = try await ingestor.ingest(bytes: Self.pass([21, 22, 25, 26]), fileName: "d.dds")  // a hole inside the pass
            #expect(try await gaps() == ["22-25"])
            _ = try await ingestor.ingest(bytes: Self.pass([30, 29, 28]), fileName: "e.dds")  // out of order, after a gap
            #expect(try await gaps() == ["22-25", "26-28"])
        }
    }
}
