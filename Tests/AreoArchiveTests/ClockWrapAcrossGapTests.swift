import AreoArchive
import AreoTelemetry
import AreoTestSupport
import Foundation
import PostgresNIO
import Testing

/// ICD §6 across a downlink gap: the wrapped packets of tiny-faults' observation 5401 arrive in
/// a pass received six hours after the pass that carried its unwrapped part, so the ERT cannot
/// vouch for continuity; the plan (and the sequence count) must.
@Suite(.serialized) struct ClockWrapAcrossGapTests {
    static let mission = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/samples/tiny-faults")

    /// tiny-faults' records in order, cut before the first wrap-affected science packet: the
    /// part after the cut gets ERTs six hours later.
    static func splitPasses() throws -> (before: [UInt8], after: [UInt8], wrappedRaw: Double) {
        var records: [PassFileScanner.Record] = []
        for n in 1...3 {
            let bytes = [UInt8](try Data(contentsOf: mission.appendingPathComponent("pass_00\(n).dds")))
            for case .record(let record) in PassFileScanner(bytes: bytes).scan() { records.append(record) }
        }
        var previous: Double?
        var cut: Int?
        for (index, record) in records.enumerated() where record.packet.apid == SpacePacket.APID.science {
            let t = record.packet.sclk.seconds
            if let p = previous, abs(t - p - SpacecraftClock.wrapPeriod) < 600 { cut = index; break }
            previous = t
        }
        let split = try #require(cut, "tiny-faults has a wrap-affected packet")
        var before = PassFileWriter(), after = PassFileWriter()
        for record in records[..<split] { before.append(record.packet, ertMicroseconds: record.header.ertMicrosecondsSinceUnixEpoch) }
        for record in records[split...] {
            after.append(record.packet, ertMicroseconds: record.header.ertMicrosecondsSinceUnixEpoch + 6 * 3_600 * 1_000_000)
        }
        return (before.bytes, after.bytes, records[split].packet.sclk.seconds)
    }

    @Test func aWrappedPacketOpeningAPassSixHoursLaterIsCorrectedWithThePlan() async throws {
        let (before, after, wrappedRaw) = try Self.splitPasses()
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await MigrationRunner(client: database.client, logger: logger).migrate(Migration.load(from: TestDatabase.migrationsDirectory))
            _ = try await PlanRepository(database: database, logger: logger).load(
                Data(contentsOf: Self.mission.appendingPathComponent("plans.plan.jsonl")), file: "plans.plan.jsonl")
            let first = try await PassIngestor(database: database, logger: logger).ingest(bytes: before, fileName: "before.dds")
            #expect(first.clockWrapCorrected == 0)
            let second = try await PassIngestor(database: database, logger: logger).ingest(bytes: after, fileName: "six-hours-later.dds")
            #expect(second.clockWrapCorrected > 0, "the wrapped packets after the gap are corrected")

            // The first packet after the gap is stored with the corrected time and its raw value kept.
            var stored: (Int, Int)?
            for try await row in try await database.client.query(
                "SELECT sclk_coarse_raw, wrap_correction FROM packets WHERE apid = 1200 AND sclk_coarse_raw = \(Int(wrappedRaw.rounded(.down)))",
                logger: logger
            ).decode((Int, Int).self) { stored = row }
            #expect(stored?.1 == 1, "wrap_correction 1 on the raw coarse time \(Int(wrappedRaw))")

            let report = try await Reports(database: database, logger: logger).completeness(observationID: 5401)
            let observation = try #require(report.observations.first)
            #expect(observation.clockWrapCorrected)
            #expect(observation.headerMismatches == 0, "corrected start times match the plan: \(observation.findings)")
            let witnessed = report.anomalies.filter { $0.kind == "clock_wrap" }
            #expect(witnessed.contains { $0.evidence["witness"]?.contains("plan") == true }, "\(witnessed.map(\.evidence))")
        }
    }

    @Test func thePlanWitnessesOnlyForAPacketOutsideEveryPlanAfterAWrapMoment() {
        // Observation 1 spans the wrap moment 720 896 000; observation 2 is planned later.
        let spans = PlannedSpans([.init(observationID: 2, start: 720_962_000, end: 720_962_020), .init(observationID: 1, start: 720_895_990, end: 720_896_010)])
        #expect(spans.wrapEvidence(raw: 720_896_005 + 65_536).map { [$0.periods, $0.observationID] } == [1, 1])
        #expect(spans.wrapEvidence(raw: 720_962_010) == nil, "inside observation 2's window: its own packet")
        #expect(spans.wrapEvidence(raw: 720_895_995 + 65_536) == nil, "before the wrap moment nothing is wrapped")
        #expect(spans.wrapEvidence(raw: 720_896_205 + 65_536) == nil, "past observation 1's end: no witness")
        // The detector uses it when the ERT gap is too long, if the sequence count runs on.
        var detector = ClockWrapDetector(state: .init(sequenceCount: 100, sclk: 720_896_004, ertMicroseconds: 0, wraps: 0))
        let sixHours: Int64 = 6 * 3_600 * 1_000_000
        let raw = SpacecraftClock(coarse: 720_896_005 + 65_536, fine: 0)
        var copy = detector
        #expect(copy.judge(sclk: raw, sequenceCount: 101, ertMicroseconds: sixHours).wraps == 0, "without the plan the gap hides the wrap")
        #expect(detector.judge(sclk: raw, sequenceCount: 101, ertMicroseconds: sixHours, plans: spans).wraps == 1)
        var jumped = ClockWrapDetector(state: .init(sequenceCount: 100, sclk: 720_896_004, ertMicroseconds: 0, wraps: 0))
        #expect(jumped.judge(sclk: raw, sequenceCount: 5000, ertMicroseconds: sixHours, plans: spans).wraps == 0, "a broken sequence count vetoes")
    }
}
