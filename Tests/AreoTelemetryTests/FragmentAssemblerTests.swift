import AreoTelemetry
import Foundation
import Testing

@Suite struct FragmentAssemblerTests {
    static func pieces(_ records: [PassFileScanner.Record]) -> [FragmentAssembler<Int>.Piece] {
        records.enumerated().filter { $0.element.packet.apid == SpacePacket.APID.science }.map { index, record in
            .init(reference: index, flags: record.packet.sequenceFlags, sequenceCount: record.packet.sequenceCount,
                  crcValid: record.packet.isCRCValid, userData: record.packet.userData)
        }
    }

    @Test func cleanMissionGives144CompleteFragmentsMatchingThePlans() throws {
        let records = try Samples.passes("tiny-clean").flatMap {
            PassFileScanner(bytes: $0.bytes).scan().compactMap { if case .record(let r) = $0 { r } else { nil } }
        }
        let result = FragmentAssembler<Int>().assemble(Self.pieces(records))
        #expect(result.orphans.isEmpty)
        #expect(result.fragments.count == 144)
        #expect(result.fragments.allSatisfy { $0.status == .complete })
        let plans = try ObservationPlan.parseLines(Samples.file("tiny-clean", "plans.plan.jsonl"), file: "plans.plan.jsonl")
        for fragment in result.fragments {
            let header = try #require(fragment.header)
            #expect(header.violations.isEmpty)
            let plan = try #require(plans.first { $0.observationID == header.observationID })
            #expect(Int(header.frameletsPlannedPerBand) == plan.exposures)
            #expect(abs(header.exposureStart.seconds - plan.frameletStart(Int(header.frameletIndex))) <= ObservationPlan.startTolerance)
        }
    }

    @Test func gapsAndBadPacketsAreNamed() {
        let header = FragmentHeader(
            observationID: 1, frameletIndex: 0, band: .pan, compression: .none, exposureStart: .init(coarse: 1, fine: 0),
            exposureDurationMicroseconds: 1, windowFirstRow: 0, windowRows: 2, windowFirstColumn: 0, windowColumns: 2,
            bitsPerSample: 12, binning: 1, rotationAngleCentidegrees: 0, frameletsPlannedPerBand: 1,
            payloadLength: 8, payloadCRC: CRC32.checksum([1, 2, 3, 4, 5, 6, 7, 8]), detectorTemperatureCentidegrees: 0)
        let bytes = header.bytes + [1, 2, 3, 4, 5, 6, 7, 8]
        typealias P = FragmentAssembler<Int>.Piece
        let whole = [
            P(reference: 0, flags: .first, sequenceCount: 16383, crcValid: true, userData: bytes[0..<40]),
            P(reference: 1, flags: .continuation, sequenceCount: 0, crcValid: true, userData: bytes[40..<60]),
            P(reference: 2, flags: .last, sequenceCount: 1, crcValid: true, userData: bytes[60...]),
        ]
        #expect(FragmentAssembler<Int>().assemble(whole).fragments.map(\.status) == [.complete])  // across the 14-bit wrap

        let gap = FragmentAssembler<Int>().assemble([whole[0], whole[2]])
        #expect(gap.fragments.map(\.status) == [.incomplete])
        #expect(gap.fragments.first?.missingPackets == 1)

        let badCRC = FragmentAssembler<Int>().assemble([whole[0], P(reference: 1, flags: .continuation, sequenceCount: 0, crcValid: false, userData: bytes[40..<60]), whole[2]])
        #expect(badCRC.fragments.map(\.status) == [.corrupt])

        let open = FragmentAssembler<Int>().assemble(Array(whole[0..<2]))
        #expect(open.fragments.map(\.status) == [.open])

        let orphan = FragmentAssembler<Int>().assemble(Array(whole[1...]))
        #expect(orphan.orphans == [1, 2])
        #expect(orphan.fragments.isEmpty)
    }
}
