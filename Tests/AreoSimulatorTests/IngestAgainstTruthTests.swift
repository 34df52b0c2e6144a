import AreoArchive
import AreoProcessing
import AreoProducts
import AreoSimulator
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

/// Areo ingests what the simulator writes, and its reports reproduce the truth: every injected
/// fault found, nothing else reported.
@Suite struct IngestAgainstTruthTests {
    @Test func reportsFindEveryInjectedFaultAndNothingElse() async throws {
        let directory = try await SimulatedMission.make()
        let truth = try SimulatedMission.truth()
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await MigrationRunner(client: database.client, logger: logger).migrate(Migration.load(from: TestDatabase.migrationsDirectory))
            _ = try await HousekeepingRepository(database: database, logger: logger).load(
                Data(contentsOf: directory.appendingPathComponent("hk-dictionary.json")), file: "hk-dictionary.json")
            _ = try await PlanRepository(database: database, logger: logger).load(
                Data(contentsOf: directory.appendingPathComponent("mission.plan.jsonl")), file: "mission.plan.jsonl")
            var reports: [PassIngestor.Report] = []
            for n in 1...3 {
                reports.append(try await PassIngestor(database: database, logger: logger).ingest(file: directory.appendingPathComponent(String(format: "pass_%03d.dds", n))))
            }
            let all = try await Reports(database: database, logger: logger).completeness()
            func of(_ kind: String) -> [Reports.AnomalyRow] { all.anomalies.filter { $0.kind == kind } }
            func injected(_ kind: String) -> [SimulatedMission.Truth.Injected] { truth.injected.filter { $0.kind == kind } }

            for fault in injected("duplicate") {
                #expect(reports[fault.pass! - 1].duplicates == fault.count)
                #expect(of("duplicate_packet").filter { $0.passID == reports[fault.pass! - 1].passID }.count == fault.count)
            }
            let dropped = injected("dropped").flatMap { $0.packets ?? [] }
            #expect(dropped.count == 3)
            #expect(of("sequence_gap").count == dropped.count, "\(of("sequence_gap")) \(of("orphan_packets")) \(truth.injected.map(\.kind))")
            #expect(Set(of("fragment_incomplete").map { "\($0.observationID!)/\($0.evidence["framelet"]!)/\($0.evidence["band"]!)" })
                == Set(dropped.map { "\($0.obs)/\($0.frag[0])/\(Band(rawValue: UInt8($0.frag[1]))!.name)" }))
            let flipped = injected("bitflip").flatMap { $0.packets ?? [] }
            #expect(flipped.count == 2)
            #expect(of("packet_crc_error").count == flipped.count)
            #expect(Set(of("fragment_corrupt").map { "\($0.observationID!)/\($0.evidence["framelet"]!)/\($0.evidence["band"]!)" })
                == Set(flipped.map { "\($0.obs)/\($0.frag[0])/\(Band(rawValue: UInt8($0.frag[1]))!.name)" }))
            #expect(of("out_of_order").map(\.passID) == injected("reorder").map { reports[$0.pass! - 1].passID })
            #expect(of("stray_bytes").map { $0.evidence["length"] } == injected("stray_bytes").map { $0.count.map(String.init) })
            #expect(of("truncated_record").map(\.passID) == injected("truncated_record").map { reports[$0.pass! - 1].passID })
            #expect(of("hk_red").map { $0.evidence["channel"] } == injected("hk_red").map(\.channel))
            #expect(of("hk_yellow").map { $0.evidence["channel"] } == injected("hk_yellow").map(\.channel))
            // Fragments split across passes come out complete (unless a fault also hit them).
            let spoiled = Set((dropped + flipped).map { "\($0.obs)/\($0.frag[0])/\($0.frag[1])" })
            let abnormal = Set((of("fragment_incomplete") + of("fragment_corrupt")).map { "\($0.observationID!)/\($0.evidence["framelet"]!)/\($0.evidence["band"]!)" })
            for split in injected("split_mid_fragment") {
                let key = "\(split.obs!)/\(split.frag![0])/\(split.frag![1])"
                guard !spoiled.contains(key) else { continue }
                #expect(!abnormal.contains("\(split.obs!)/\(split.frag![0])/\(Band(rawValue: UInt8(split.frag![1]))!.name)"), "split fragment \(key)")
            }
            let wrap = try #require(truth.wrap_observation)
            #expect(of("clock_wrap").map(\.observationID) == [wrap])
            #expect(of("plan_spans_clock_wrap").map(\.observationID) == [wrap])
            let wrapped = try #require(all.observations.first { $0.observationID == wrap })
            #expect(wrapped.clockWrapCorrected && wrapped.headerMismatches == 0)
            // Nothing else.
            let expected: Set<String> = [
                "duplicate_packet", "sequence_gap", "fragment_incomplete", "packet_crc_error", "fragment_corrupt", "out_of_order",
                "stray_bytes", "truncated_record", "hk_red", "hk_yellow", "clock_wrap", "plan_spans_clock_wrap",
            ]
            #expect(Set(all.anomalies.map(\.kind)) == expected, "\(all.anomalies.filter { !expected.contains($0.kind) })")
            #expect(all.observations.map(\.receivedFragments).reduce(0, +) == truth.observations.map(\.fragments).reduce(0, +))

            // Processing finds the injected saturation and records it.
            let inputs = InputRepository(database: database, logger: logger)
            _ = try await inputs.loadInstrument(Data(contentsOf: directory.appendingPathComponent("instrument.json")), file: "instrument.json")
            _ = try await inputs.loadCalibration(directory: directory.appendingPathComponent("calibration/cal-0001"))
            _ = try await ClockService(database: database, logger: logger).loadKernel(
                Data(contentsOf: directory.appendingPathComponent("geometry/reconstructed.json")), file: "reconstructed.json")
            let saturatedObservation = try #require(injected("saturated").first?.observation)
            let product = try await ProductService(database: database, logger: logger).product(
                try ProductRequest(observationID: saturatedObservation, kind: .calibrated, bands: [.pan], format: .dat))
            #expect(product.quality.saturatedSamples > 0)
            let after = try await Reports(database: database, logger: logger).completeness()
            #expect(after.anomalies.filter { $0.kind == "saturation" }.map(\.observationID) == [saturatedObservation])
        }
    }
}
