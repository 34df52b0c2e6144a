import AreoGeometry
import AreoProcessing
import AreoRadiometry
import AreoTelemetry
import AreoTestSupport
import Foundation

/// A sample mission read without the archive: its passes scanned and reassembled in memory
/// (duplicates dropped), with its instrument, kernels and calibration.
struct SampleMission {
    let directory: URL
    let instrument: InstrumentDescription
    let calibration: CalibrationSet
    let fragments: [FrameletReference: [UInt8]]

    init(_ name: String) throws {
        directory = TestDatabase.samplesDirectory.appendingPathComponent(name)
        instrument = try InstrumentDescription.parse(Data(contentsOf: directory.appendingPathComponent("instrument.json")), file: "instrument.json")
        calibration = try CalibrationSet.load(directory: directory.appendingPathComponent("calibration/cal-0001"))
        var pieces: [FragmentAssembler<Int>.Piece] = []
        var seen = Set<[UInt8]>()
        var order: [(Double, UInt16, Int)] = []
        var packets: [SpacePacket] = []
        for n in 1...3 {
            let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent("pass_00\(n).dds")))
            for case .record(let record) in PassFileScanner(bytes: bytes).scan()
            where record.packet.apid == SpacePacket.APID.science && record.packet.isCRCValid && seen.insert(record.packet.bytes).inserted {
                order.append((record.packet.sclk.seconds, record.packet.sequenceCount, packets.count))
                packets.append(record.packet)
            }
        }
        for (_, _, index) in order.sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
            let p = packets[index]
            pieces.append(.init(reference: index, flags: p.sequenceFlags, sequenceCount: p.sequenceCount, crcValid: true, userData: p.userData))
        }
        var result: [FrameletReference: [UInt8]] = [:]
        for fragment in FragmentAssembler<Int>().assemble(pieces).fragments where fragment.status == .complete {
            guard let header = fragment.header else { continue }
            result[FrameletReference(header: header, exposureStart: header.exposureStart.seconds)] = Array(fragment.payload)
        }
        fragments = result
    }

    func kernel(_ name: String) throws -> GeometryKernel {
        try GeometryKernel.parse(Data(contentsOf: directory.appendingPathComponent("geometry/\(name).json")), file: name)
    }

    func framelets(observation: UInt32) -> [FrameletReference] {
        fragments.keys.filter { $0.header.observationID == observation }
    }

    func processor(kernel name: String) throws -> ObservationProcessor {
        ObservationProcessor(instrument: instrument, kernel: try kernel(name), calibration: calibration)
    }
}
