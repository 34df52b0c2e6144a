import AreoArchive
import AreoTestSupport
import Foundation
import PostgresNIO
import Testing

/// The one load path under concurrency: loads made at once leave the catalogue a sequential
/// replay of the same loads leaves (refreshes are serialised across processes).
@Suite(.serialized) struct ArchiveLoadsTests {
    enum Load: Sendable, CustomStringConvertible {
        case pass(String), kernel(String), calibration, instrument
        var description: String {
            switch self {
            case .pass(let name): name
            case .kernel(let name): "kernel \(name)"
            case .calibration: "calibration"
            case .instrument: "instrument"
            }
        }

        func run(_ loads: ArchiveLoads) async throws {
            let mission = SampleArchive.tinyClean
            switch self {
            case .pass(let name): _ = try await loads.passes([mission.appendingPathComponent(name)])
            case .kernel(let name): _ = try await loads.kernels([(try Data(contentsOf: mission.appendingPathComponent("geometry/\(name).json")), "\(name).json")])
            case .calibration: _ = try await loads.calibration(directory: mission.appendingPathComponent("calibration/cal-0001"))
            case .instrument: _ = try await loads.instrument(try Data(contentsOf: mission.appendingPathComponent("instrument.json")), file: "instrument.json")
            }
        }
    }

    /// What a catalogue row says (not the ids and times that depend on when a load ran).
    static func catalogue(_ database: Database) async throws -> [String] {
        var rows: [String] = []
        for try await (id, planned, status, kernel, calibration, bands, footprint, stamp) in try await database.client.query(
            """
            SELECT observation_id, planned, status, kernel_id, calibration_id, array_to_string(bands, ','), coalesce(footprint::text, ''),
                   split_part(data_stamp, '.', 1)
            FROM observation_catalog ORDER BY observation_id
            """, logger: TestDatabase.logger
        ).decode((Int, Bool, String, String?, String?, String, String, String).self) {
            rows.append("\(id) \(planned) \(status) \(kernel ?? "-") \(calibration ?? "-") \(bands) \(stamp) \(footprint)")
        }
        return rows
    }

    static func prepared(_ database: Database) async throws -> ArchiveLoads {
        try await MigrationRunner(client: database.client, logger: TestDatabase.logger).migrate(try Migration.load(from: TestDatabase.migrationsDirectory))
        let loads = ArchiveLoads(database: database, logger: TestDatabase.logger)
        _ = try await loads.plans([(try Data(contentsOf: SampleArchive.tinyClean.appendingPathComponent("plans.plan.jsonl")), "plans.plan.jsonl")])
        return loads
    }

    @Test func twentyConcurrentLoadsLeaveTheCatalogueASequentialReplayLeaves() async throws {
        var all: [Load] = [.pass("pass_001.dds"), .pass("pass_002.dds"), .pass("pass_003.dds"), .kernel("predicted"), .kernel("reconstructed"), .calibration, .instrument]
        all += [.pass("pass_002.dds"), .pass("pass_003.dds"), .pass("pass_001.dds"), .kernel("predicted"), .kernel("reconstructed"), .kernel("predicted"),
                .calibration, .instrument, .kernel("reconstructed"), .pass("pass_003.dds"), .calibration, .instrument, .kernel("predicted")]
        let order = all.shuffled()
        #expect(order.count == 20)
        let concurrent = try await TestDatabase.withFreshDatabase { database in
            let loads = try await Self.prepared(database)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for load in order {
                    group.addTask {
                        do { try await load.run(loads) } catch {
                            Issue.record("\(load): \(String(reflecting: error))")
                            throw error
                        }
                    }
                }
                try await group.waitForAll()
            }
            return try await Self.catalogue(database)
        }
        let sequential = try await TestDatabase.withFreshDatabase { database in
            let loads = try await Self.prepared(database)
            for load in order { try await load.run(loads) }
            return try await Self.catalogue(database)
        }
        #expect(concurrent.count == 3)
        #expect(concurrent == sequential, "order: \(order)")
        #expect(concurrent.allSatisfy { $0.contains(" recon") }, "the reconstructed kernel applies whatever the order")
    }

    /// Each load recomputes only the observations its input can affect, and what it leaves is
    /// what a recomputation of every observation gives.
    @Test func loadsRefreshOnlyTheObservationsTheirInputCanAffect() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let loads = try await Self.prepared(database)
            let mission = SampleArchive.tinyClean
            _ = try await loads.instrument(try Data(contentsOf: mission.appendingPathComponent("instrument.json")), file: "instrument.json")
            _ = try await loads.calibration(directory: mission.appendingPathComponent("calibration/cal-0001"))
            _ = try await loads.kernels([(try Data(contentsOf: mission.appendingPathComponent("geometry/predicted.json")), "predicted.json")])
            var touched: [Int] = []
            for name in ["pass_001.dds", "pass_002.dds", "pass_003.dds"] {
                let loaded = try await loads.passes([mission.appendingPathComponent(name)])
                var inPass = Set<Int>()
                for try await id in try await database.client.query(
                    """
                    SELECT DISTINCT f.observation_id FROM fragments f JOIN fragment_packets fp ON fp.fragment_id = f.id
                    JOIN receptions r ON r.packet_id = fp.packet_id WHERE r.pass_id = \(loaded.input[0].passID)
                    """, logger: TestDatabase.logger).decode(Int.self) { inPass.insert(id) }
                #expect(loaded.catalogue.recomputed == inPass.count, "\(name) recomputes the observations it holds packets of")
                touched.append(loaded.catalogue.recomputed)
            }
            #expect(touched.reduce(0, +) >= 3, "every observation was recomputed by the pass that brought it")
            let again = try await loads.passes([mission.appendingPathComponent("pass_002.dds")])
            #expect(again.input[0].alreadyIngested)
            #expect(again.catalogue.recomputed == 0, "a pass loaded again affects no observation")
            let same = try await loads.instrument(try Data(contentsOf: mission.appendingPathComponent("instrument.json")), file: "instrument.json")
            #expect(same.catalogue.recomputed == 0, "the same instrument again changes no footprint")
            let reconstructed = try await loads.kernels([(try Data(contentsOf: mission.appendingPathComponent("geometry/reconstructed.json")), "reconstructed.json")])
            #expect(reconstructed.catalogue.recomputed == 3)
            #expect(Set(reconstructed.catalogue.inputsChanged) == [5300, 5301, 5302], "the better kernel now applies to all three")
            let scoped = try await Self.catalogue(database)
            let all = try await ObservationCatalog(database: database, logger: TestDatabase.logger).refresh(.all)
            #expect(all.recomputed == 3)
            #expect(all.inputsChanged.isEmpty && all.dataChanged.isEmpty, "nothing was left stale")
            #expect(try await Self.catalogue(database) == scoped)
        }
    }

    /// An instrument is identified by its name and content: the same description again is a
    /// no-op, another under the same name is refused unless replaced, and a replacement reshapes
    /// every footprint.
    @Test func anInstrumentUnderItsNameWithOtherContentIsRefusedUnlessReplaced() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let loads = try await Self.prepared(database)
            let mission = SampleArchive.tinyClean
            let original = try Data(contentsOf: mission.appendingPathComponent("instrument.json"))
            _ = try await loads.instrument(original, file: "instrument.json")
            _ = try await loads.calibration(directory: mission.appendingPathComponent("calibration/cal-0001"))
            _ = try await loads.kernels([(try Data(contentsOf: mission.appendingPathComponent("geometry/predicted.json")), "predicted.json")])
            _ = try await loads.passes([mission.appendingPathComponent("pass_001.dds")])
            let before = try await Self.catalogue(database)
            #expect(try await loads.instrument(original, file: "instrument.json").catalogue.recomputed == 0)

            // The same camera with a longer focal length: a smaller footprint on the ground.
            var json = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            var detector = try #require(json["detector"] as? [String: Any])
            detector["focal_length_mm"] = (detector["focal_length_mm"] as? Double ?? 220) * 1.5
            json["detector"] = detector
            let longer = try JSONSerialization.data(withJSONObject: json)
            await #expect(throws: InputConflict.self) { try await loads.instrument(longer, file: "instrument.json") }
            #expect(try await Self.catalogue(database) == before, "a refused load changes nothing")
            let replaced = try await loads.instrument(longer, file: "instrument.json", replace: true)
            #expect(replaced.catalogue.recomputed == 3)
            #expect(try await Self.catalogue(database) != before, "footprints follow the new camera")
        }
    }
}
