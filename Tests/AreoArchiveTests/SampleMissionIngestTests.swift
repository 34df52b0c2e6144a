import AreoGeometry
import AreoArchive
import AreoTestSupport
import AreoTelemetry
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Testing

/// Ingests the independent producer's sample missions and checks the reports against truth.json.
@Suite struct SampleMissionIngestTests {
    static var samples: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/samples")
    }

    struct Truth: Decodable {
        struct Injected: Decodable {
            let kind: String
            let count: Int?
            let pass: Int?
            let channel: String?
            let packets: [DroppedPacket]?
        }
        struct DroppedPacket: Decodable {
            let obs: Int
            let frag: [Int]
            let chunk: Int
        }
        let injected: [Injected]
        let packets_total: Int
        let wrap_observation: Int?
    }

    /// Migrates, loads the ICD's housekeeping dictionary and the plans, ingests the three passes.
    static func ingestMission(_ name: String, into database: Database, batchSize: Int = 4000, pageSize: Int = 20_000) async throws -> [PassIngestor.Report] {
        let logger = TestDatabase.logger
        try await MigrationRunner(client: database.client, logger: logger).migrate(Migration.load(from: TestDatabase.migrationsDirectory))
        let dictionaryURL = samples.deletingLastPathComponent().appendingPathComponent("icd/hk-dictionary.json")
        _ = try await HousekeepingRepository(database: database, logger: logger).load(Data(contentsOf: dictionaryURL), file: "hk-dictionary.json")
        let mission = samples.appendingPathComponent(name)
        _ = try await PlanRepository(database: database, logger: logger).load(
            Data(contentsOf: mission.appendingPathComponent("plans.plan.jsonl")), file: "plans.plan.jsonl")
        var reports: [PassIngestor.Report] = []
        for n in 1...3 {
            var ingestor = PassIngestor(database: database, logger: logger)
            ingestor.batchSize = batchSize
            ingestor.reassemblyPageSize = pageSize
            reports.append(try await ingestor.ingest(file: mission.appendingPathComponent("pass_00\(n).dds")))
        }
        return reports
    }

    @Test func cleanMissionIsCompleteWithOnlyTheInjectedHousekeepingAlarm() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let reports = try await Self.ingestMission("tiny-clean", into: database)
            #expect(reports.map(\.records).reduce(0, +) == 1340)
            let report = try await Reports(database: database, logger: TestDatabase.logger).completeness()
            #expect(report.observations.map(\.status) == [.complete, .complete, .complete])
            #expect(report.observations.map(\.completeFragments).reduce(0, +) == 144)
            let kinds = report.anomalies.map(\.kind)
            #expect(kinds == ["hk_red"], "\(report.anomalies)")
            #expect(report.anomalies.first?.evidence["channel"] == "FPA_TEMP")
        }
    }

    /// Small batches and reassembly pages exercise the paging paths; the result must not change.
    @Test(arguments: [(4000, 20_000), (37, 23)])
    func faultyMissionReportsExactlyTheInjectedFaults(batchSize: Int, pageSize: Int) async throws {
        let truth = try JSONDecoder().decode(Truth.self, from: Data(contentsOf: Self.samples.appendingPathComponent("tiny-faults/truth.json")))
        try await TestDatabase.withFreshDatabase { database in
            let reports = try await Self.ingestMission("tiny-faults", into: database, batchSize: batchSize, pageSize: pageSize)
            let all = try await Reports(database: database, logger: TestDatabase.logger).completeness()
            let anomalies = all.anomalies
            func of(_ kind: String) -> [Reports.AnomalyRow] { anomalies.filter { $0.kind == kind } }

            // Duplicates, per pass.
            for fault in truth.injected where fault.kind == "duplicate" {
                let pass = reports[fault.pass! - 1].passID
                #expect(of("duplicate_packet").filter { $0.passID == pass }.count == fault.count, "pass \(fault.pass!)")
                #expect(reports[fault.pass! - 1].duplicates == fault.count)
            }
            // Stray bytes and the truncated record.
            let stray = try #require(truth.injected.first { $0.kind == "stray_bytes" })
            #expect(of("stray_bytes").count == 1)
            #expect(of("stray_bytes").first?.passID == reports[stray.pass! - 1].passID)
            #expect(of("stray_bytes").first?.evidence["length"] == String(stray.count!))
            #expect(of("truncated_record").map(\.passID) == [reports[2].passID])
            // Reordered records: one packet arrived after its successor.
            #expect(of("out_of_order").map(\.passID) == [reports[1].passID])
            // Bit flips: CRC errors and the fragments they spoil.
            let flipped = truth.injected.first { $0.kind == "bitflip" }!.packets!
            #expect(of("packet_crc_error").count == flipped.count)
            #expect(Set(of("fragment_corrupt").map { "\($0.observationID!)/\($0.evidence["framelet"]!)/\($0.evidence["band"]!)" })
                == Set(flipped.map { "\($0.obs)/\($0.frag[0])/\(Band(rawValue: UInt8($0.frag[1]))!.name)" }))
            // Dropped packets: gaps and the incomplete fragments.
            let dropped = truth.injected.first { $0.kind == "dropped" }!.packets!
            #expect(of("sequence_gap").count == dropped.count)
            #expect(of("sequence_gap").allSatisfy { $0.evidence["missing_packets"] == "1" })
            #expect(Set(of("fragment_incomplete").map { "\($0.observationID!)/\($0.evidence["framelet"]!)/\($0.evidence["band"]!)" })
                == Set(dropped.map { "\($0.obs)/\($0.frag[0])/\(Band(rawValue: UInt8($0.frag[1]))!.name)" }))
            // The housekeeping red-limit violation.
            #expect(of("hk_red").map { $0.evidence["channel"] } == ["FPA_TEMP"])
            // The clock wrap of the planned observation, detected and corrected.
            let wrapObservation = try #require(truth.wrap_observation)
            #expect(of("clock_wrap").map(\.observationID) == [wrapObservation])
            #expect(of("plan_spans_clock_wrap").map(\.observationID) == [wrapObservation])
            let wrapped = try #require(all.observations.first { $0.observationID == wrapObservation })
            #expect(wrapped.clockWrapCorrected)
            #expect(wrapped.headerMismatches == 0, "corrected start times match the plan: \(wrapped.findings)")
            #expect(wrapped.receivedFragments == 48)

            // Nothing else.
            let expectedKinds: Set<String> = [
                "duplicate_packet", "stray_bytes", "truncated_record", "out_of_order", "packet_crc_error", "fragment_corrupt",
                "sequence_gap", "fragment_incomplete", "hk_red", "clock_wrap", "plan_spans_clock_wrap",
            ]
            #expect(Set(anomalies.map(\.kind)).subtracting(expectedKinds).isEmpty, "\(anomalies.filter { !expectedKinds.contains($0.kind) })")
            #expect(all.observations.first { $0.observationID == 5402 }?.status == .complete)
            #expect(reports.map(\.records).reduce(0, +) + 0 >= truth.packets_total - 3)
        }
    }

    @Test func reingestingChangesNothing() async throws {
        try await TestDatabase.withFreshDatabase { database in
            _ = try await Self.ingestMission("tiny-faults", into: database)
            let before = try await Self.fingerprint(database)
            let again = try await PassIngestor(database: database, logger: TestDatabase.logger)
                .ingest(file: Self.samples.appendingPathComponent("tiny-faults/pass_002.dds"))
            #expect(again.alreadyIngested)
            #expect(try await Self.fingerprint(database) == before)
        }
    }

    static func fingerprint(_ database: Database) async throws -> [String] {
        try await ArchiveFingerprint.of(database)
    }
}

@Suite struct ClockWrapCalendarTests {
    @Test func wrapsNeedAKernelAndThenListTheWrapWithItsObservation() async throws {
        try await TestDatabase.withFreshDatabase { database in
            _ = try await SampleMissionIngestTests.ingestMission("tiny-faults", into: database)
            let clock = ClockService(database: database, logger: TestDatabase.logger)
            let from = GroundTime.date(t: 830_000_000), to = GroundTime.date(t: 830_010_000)
            await #expect(throws: ClockService.NoClockCorrelation.self) { try await clock.wraps(from: from, to: to, publicOnly: false) }

            let url = TestDatabase.samplesDirectory.appendingPathComponent("tiny-faults/geometry/reconstructed.json")
            _ = try await clock.loadKernel(Data(contentsOf: url), file: "reconstructed.json")
            let wraps = try await clock.wraps(from: from, to: to, publicOnly: false)
            #expect(wraps.map(\.coarseSCLK) == [720_896_000])
            #expect(wraps.first?.observations == [5401])
            // SCLK 720896000 is 151 s after the kernel's first correlation point (t = 830004110 − 849 s … ).
            let kernel = try GeometryKernel.parse(Data(contentsOf: url), file: "k")
            #expect(abs((wraps.first?.t ?? 0) - kernel.clockCorrelation.t(sclk: 720_896_000)) < 1e-6)
        }
    }
}

@Suite struct HealthAndStrayAPIDTests {
    @Test func healthReportSummarisesTheDayAndItsViolations() async throws {
        try await TestDatabase.withFreshDatabase { database in
            _ = try await SampleMissionIngestTests.ingestMission("tiny-faults", into: database)
            // The day of the passes' earth received times.
            let pass = try Data(contentsOf: TestDatabase.samplesDirectory.appendingPathComponent("tiny-faults/pass_001.dds"))
            let ert = DeliveryHeader(bytes: [UInt8](pass.prefix(18))).ertSeconds
            let day = String(GroundTime.iso8601(Date(timeIntervalSince1970: Double(ert))).prefix(10))
            let health = try await Reports(database: database, logger: TestDatabase.logger).health(day: day)
            let fpa = try #require(health.channels.first { $0.name == "FPA_TEMP" })
            #expect(fpa.redViolations == 1)
            #expect(fpa.max == 25.0)
            #expect(fpa.samples == health.channels.first { $0.name == "PSU_28V" }?.samples)
            #expect(health.channels.count == 10)
            #expect(health.violations.map(\.kind) == ["hk_red"])
            #expect(health.commandsPending != nil)
            let empty = try await Reports(database: database, logger: TestDatabase.logger).health(day: "2001-01-01")
            #expect(empty.channels.isEmpty && empty.violations.isEmpty)
            await #expect(throws: IngestError.self) { try await Reports(database: database, logger: TestDatabase.logger).health(day: "yesterday") }
        }
    }

    @Test func idlePacketsAreSkippedAndUnknownAPIDsKeptRawAndReportedOncePerPass() async throws {
        var writer = PassFileWriter()
        let clock = SpacecraftClock(coarse: 800_000_000, fine: 0)
        for i in 0..<3 {
            writer.append(SpacePacket.make(apid: 2047, flags: .unsegmented, sequenceCount: UInt16(i), sclk: clock, serviceType: 0, serviceSubtype: 0, userData: [0, 0]), ertMicroseconds: 1_000_000 * Int64(i + 1))
            writer.append(SpacePacket.make(apid: 42, flags: .unsegmented, sequenceCount: UInt16(i), sclk: clock, serviceType: 9, serviceSubtype: 9, userData: [1, 2, 3, UInt8(i)]), ertMicroseconds: 1_000_000 * Int64(i + 1) + 10)
        }
        let bytes = writer.drain()
        try await TestDatabase.withFreshDatabase { database in
            try await MigrationRunner(client: database.client, logger: TestDatabase.logger).migrate(Migration.load(from: TestDatabase.migrationsDirectory))
            let report = try await PassIngestor(database: database, logger: TestDatabase.logger).ingest(bytes: bytes, fileName: "odd.dds")
            #expect(report.idlePackets == 3)
            #expect(report.newPackets == 3)
            let stored = try await Reports(database: database, logger: TestDatabase.logger).packets(apid: 42, sclk: 0...1e10, ertMicroseconds: nil)
            #expect(stored.count == 3)
            #expect(try await Reports(database: database, logger: TestDatabase.logger).packets(apid: 2047, sclk: 0...1e10, ertMicroseconds: nil).isEmpty)
            let anomalies = try await Reports(database: database, logger: TestDatabase.logger).anomalies()
            #expect(anomalies.map(\.kind) == ["unknown_apid"])
            #expect(anomalies.first?.evidence["apid"] == "42")
            // Packets are kept byte-exact.
            let rows = try await database.client.query("SELECT bytes FROM packets WHERE apid = 42 ORDER BY sequence_count", logger: TestDatabase.logger)
            var kept: [[UInt8]] = []
            for try await buffer in rows.decode(ByteBuffer.self) { kept.append(Array(buffer.readableBytesView)) }
            #expect(kept.count == 3)
            #expect(kept.first.map { SpacePacket(bytes: $0).isCRCValid } == true)
        }
    }
}

@Suite struct FragmentRepositoryTests {
    @Test func storedFragmentsReadBackByteExact() async throws {
        try await TestDatabase.withFreshDatabase { database in
            _ = try await SampleMissionIngestTests.ingestMission("tiny-clean", into: database)
            let repository = FragmentRepository(database: database, logger: TestDatabase.logger)
            for (observation, framelet, band) in [(5300, 0, Band.pan), (5301, 11, .blu), (5302, 5, .nir)] {
                let fragment = try #require(try await repository.fragment(observationID: observation, framelet: framelet, band: band))
                #expect(fragment.status == "complete")
                #expect(Int(fragment.header.frameletIndex) == framelet && fragment.header.band == band)
                #expect(FragmentHeader(bytes: fragment.bytes) == fragment.header)
                #expect(fragment.payload.count == Int(fragment.header.payloadLength))
                #expect(CRC32.checksum(fragment.payload) == fragment.header.payloadCRC)
            }
            #expect(try await repository.fragment(observationID: 5300, framelet: 99, band: .pan) == nil)
        }
    }
}

@Suite struct IngestReportTests {
    @Test func reportsCountTheFragmentsCompleted() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let reports = try await SampleMissionIngestTests.ingestMission("tiny-clean", into: database)
            #expect(reports.map(\.fragmentsCompleted).reduce(0, +) == 144)
            #expect(reports.allSatisfy { $0.duplicates == 0 && $0.crcErrors == 0 && $0.damagedBytes == 0 })
        }
    }
}

@Suite struct ApplicabilityTests {
    @Test func theHighestKindThenTheNewestKernelAppliesAndTheNewestCalibration() async throws {
        try await TestDatabase.withFreshDatabase { database in
            _ = try await SampleMissionIngestTests.ingestMission("tiny-faults", into: database)
            let inputs = InputRepository(database: database, logger: TestDatabase.logger)
            let clock = ClockService(database: database, logger: TestDatabase.logger)
            let geometry = TestDatabase.samplesDirectory.appendingPathComponent("tiny-faults/geometry")
            #expect(try await inputs.applicable(observationID: 5400)?.kernelID == nil)

            _ = try await clock.loadKernel(Data(contentsOf: geometry.appendingPathComponent("predicted.json")), file: "predicted.json")
            #expect(try await inputs.applicable(observationID: 5400)?.kernelID == "predi-4")
            let reconstructed = try Data(contentsOf: geometry.appendingPathComponent("reconstructed.json"))
            let kernel = try GeometryKernel.parse(reconstructed, file: "r")
            _ = try await clock.loadKernel(reconstructed, file: "reconstructed.json")
            #expect(try await inputs.applicable(observationID: 5400)?.kernelID == kernel.kernelID)

            // A newer kernel of the same kind wins the tie; one not covering the observation never applies.
            var newer = try #require(try JSONSerialization.jsonObject(with: reconstructed) as? [String: Any])
            newer["kernel_id"] = "recon-newer"
            newer["produced"] = "2027-01-01T00:00:00Z"
            _ = try await clock.loadKernel(JSONSerialization.data(withJSONObject: newer), file: "newer.json")
            #expect(try await inputs.applicable(observationID: 5400)?.kernelID == "recon-newer")
            // ICD §12: a refined kernel ranks above reconstructed only while it was derived from
            // the best unrefined kernel there is.
            var refined = newer
            refined["kind"] = "refined"
            refined["derived_from"] = ["kernel_id": "recon-newer", "reference_maps": ["ctx"], "observations": [Int]()]
            refined["kernel_id"] = "refined-elsewhere"
            let coverage = newer["coverage_sclk"]!
            refined["coverage_sclk"] = [1.0, 2.0]
            _ = try await clock.loadKernel(JSONSerialization.data(withJSONObject: refined), file: "elsewhere.json")
            #expect(try await inputs.applicable(observationID: 5400)?.kernelID == "recon-newer")
            refined["coverage_sclk"] = coverage
            refined["kernel_id"] = "refined-here"
            _ = try await clock.loadKernel(JSONSerialization.data(withJSONObject: refined), file: "here.json")
            #expect(try await inputs.applicable(observationID: 5400)?.kernelID == "refined-here")
            refined["kernel_id"] = "refined-stale"
            refined["produced"] = "2027-02-01T00:00:00Z"
            refined["derived_from"] = ["kernel_id": "predi-4", "reference_maps": ["ctx"], "observations": [Int]()]
            _ = try await clock.loadKernel(JSONSerialization.data(withJSONObject: refined), file: "stale.json")
            #expect(try await inputs.applicable(observationID: 5400)?.kernelID == "refined-here", "a newer refinement of a superseded kernel does not apply")
            // Without derived_from a refined kernel breaks the ICD.
            refined["derived_from"] = nil
            refined["kernel_id"] = "refined-orphan"
            #expect(throws: TelemetryError.self) { try GeometryKernel.parse(JSONSerialization.data(withJSONObject: refined), file: "orphan.json") }

            #expect(try await inputs.applicable(observationID: 5400)?.calibrationID == nil)
            _ = try await inputs.loadCalibration(directory: TestDatabase.samplesDirectory.appendingPathComponent("tiny-faults/calibration/cal-0001"))
            #expect(try await inputs.applicable(observationID: 5401)?.calibrationID == "cal-0001")
            #expect(try await inputs.applicable(observationID: 999_999) == nil)

            let instrument = try await inputs.loadInstrument(
                Data(contentsOf: TestDatabase.samplesDirectory.appendingPathComponent("tiny-faults/instrument.json")), file: "instrument.json")
            _ = try await inputs.loadInstrument(
                Data(contentsOf: TestDatabase.samplesDirectory.appendingPathComponent("tiny-faults/instrument.json")), file: "instrument.json")
            var versions = 0
            for try await n in try await database.client.query("SELECT count(*)::int8 FROM instruments WHERE name = \(instrument.name)", logger: TestDatabase.logger).decode(Int.self) { versions = n }
            #expect(versions == 1)
        }
    }
}

@Suite struct SequenceGapTests {
    static func pass(_ sequences: [UInt16], ertBase: Int64) -> [UInt8] {
        var writer = PassFileWriter()
        for seq in sequences {
            let packet = SpacePacket.make(
                apid: SpacePacket.APID.housekeeping, flags: .unsegmented, sequenceCount: seq,
                sclk: SpacecraftClock(coarse: 800_000_000 + UInt32((Int(seq) + 2) % 16384) * 8, fine: 0), serviceType: 3, serviceSubtype: 25,
                userData: [0, 1, 0, 2, 0x6D, 0x60])
            writer.append(packet, ertMicroseconds: ertBase + Int64((Int(seq) + 2) % 16384) * 8_000_000)
        }
        return writer.drain()
    }

    @Test func aGapFilledByALaterPassIsNoLongerReported() async throws {
        try await TestDatabase.withFreshDatabase { database in
            try await MigrationRunner(client: database.client, logger: TestDatabase.logger).migrate(Migration.load(from: TestDatabase.migrationsDirectory))
            let ingestor = PassIngestor(database: database, logger: TestDatabase.logger)
            let reports = Reports(database: database, logger: TestDatabase.logger)
            // 16383 → 0 is the 14-bit wrap, not a gap; 2 and 5 are missing.
            _ = try await ingestor.ingest(bytes: Self.pass([16382, 16383, 0, 1, 3, 4, 6], ertBase: 1_700_000_000_000_000), fileName: "a.dds")
            var gaps = try await reports.anomalies().filter { $0.kind == "sequence_gap" }
            #expect(gaps.map { $0.evidence["after_sequence_count"] } == ["1", "4"])
            _ = try await ingestor.ingest(bytes: Self.pass([2], ertBase: 1_700_000_100_000_000), fileName: "b.dds")
            gaps = try await reports.anomalies().filter { $0.kind == "sequence_gap" }
            #expect(gaps.map { $0.evidence["after_sequence_count"] } == ["4"])
        }
    }
}
