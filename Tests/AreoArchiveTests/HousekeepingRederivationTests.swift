import AreoArchive
import AreoProducts
import AreoTestSupport
import Foundation
import PostgresNIO
import Testing

/// A housekeeping dictionary loaded after the passes (issue 15): the samples already stored get
/// their engineering values and limit checks, as if the dictionary had come first.
@Suite(.serialized) struct HousekeepingRederivationTests {
    @Test func aDictionaryLoadedAfterThePassesYieldsTheLimitAlarms() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await MigrationRunner(client: database.client, logger: logger).migrate(Migration.load(from: TestDatabase.migrationsDirectory))
            let loads = ArchiveLoads(database: database, logger: logger)
            let mission = SampleArchive.tinyClean
            _ = try await loads.plans([(try Data(contentsOf: mission.appendingPathComponent("plans.plan.jsonl")), "plans.plan.jsonl")])
            _ = try await loads.passes((1...3).map { mission.appendingPathComponent("pass_00\($0).dds") })
            let reports = Reports(database: database, logger: logger)
            #expect(try await reports.anomalies().filter { $0.kind.hasPrefix("hk_") }.isEmpty, "no dictionary: no limit check")
            var derived = 0
            for try await n in try await database.client.query("SELECT count(*) FROM housekeeping WHERE value IS NOT NULL", logger: logger).decode(Int.self) {
                derived = n
            }
            #expect(derived == 0)

            let dictionary = TestDatabase.samplesDirectory.deletingLastPathComponent().appendingPathComponent("icd/hk-dictionary.json")
            _ = try await loads.housekeepingDictionary(try Data(contentsOf: dictionary), file: "hk-dictionary.json")
            let alarms = try await reports.anomalies().filter { $0.kind == "hk_red" }
            #expect(alarms.map { $0.evidence["channel"] } == ["FPA_TEMP"], "the sample's injected red-limit violation")
            #expect(alarms.first?.packetID != nil)
            var missing = 1
            for try await n in try await database.client.query("SELECT count(*) FROM housekeeping WHERE value IS NULL", logger: logger).decode(Int.self) {
                missing = n
            }
            #expect(missing == 0, "every sample of a known channel has its engineering value")

            // The same result as ingesting with the dictionary in force: re-deriving again changes nothing.
            let again = try await HousekeepingRepository(database: database, logger: logger).rederive()
            #expect(again.packets == 0, "resumable: the derivation had finished")
            #expect(try await reports.anomalies().filter { $0.kind == "hk_red" }.count == 1)
        }
    }
}
