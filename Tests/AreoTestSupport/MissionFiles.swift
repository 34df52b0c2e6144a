import AreoGeometry
import AreoProcessing
import AreoRadiometry
import AreoTelemetry
import Foundation

/// A mission directory (the samples' or the simulator's) read without the archive: its passes
/// scanned and reassembled in memory (duplicates and CRC failures dropped, clock wraps undone by
/// whole periods towards the plan), with its instrument, kernels and calibration.
public struct MissionFiles: Sendable {
    public let directory: URL
    public let instrument: InstrumentDescription
    public let calibration: CalibrationSet
    public let fragments: [FrameletReference: [UInt8]]

    /// A sample mission by name (`tiny-clean`, `tiny-faults`).
    public init(_ name: String) throws {
        try self.init(directory: TestDatabase.samplesDirectory.appendingPathComponent(name))
    }

    public init(directory: URL) throws {
        self.directory = directory
        instrument = try InstrumentDescription.parse(Data(contentsOf: directory.appendingPathComponent("instrument.json")), file: "instrument.json")
        calibration = try CalibrationSet.load(directory: directory.appendingPathComponent("calibration/cal-0001"))
        var pieces: [FragmentAssembler<Int>.Piece] = []
        var seen = Set<[UInt8]>()
        var order: [(Double, UInt16, Int)] = []
        var packets: [SpacePacket] = []
        let passFiles = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".dds") }.sorted()
        for name in passFiles {
            let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
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
        let sortedStarts = FragmentAssembler<Int>().assemble(pieces).fragments.compactMap { $0.header?.exposureStart.seconds }.sorted()
        for fragment in FragmentAssembler<Int>().assemble(pieces).fragments where fragment.status == .complete {
            guard let header = fragment.header else { continue }
            // A wrapped exposure start (ICD §6) is 65 536 s after its neighbours: take it back.
            var start = header.exposureStart.seconds
            if let reference = sortedStarts.first, start - reference > 32_768 { start -= 65_536 }
            result[FrameletReference(header: header, exposureStart: start)] = Array(fragment.payload)
        }
        fragments = result
    }

    public func kernel(_ name: String) throws -> GeometryKernel {
        try GeometryKernel.parse(Data(contentsOf: directory.appendingPathComponent("geometry/\(name).json")), file: name)
    }

    public func framelets(observation: UInt32) -> [FrameletReference] {
        fragments.keys.filter { $0.header.observationID == observation }
    }

    public func processor(kernel name: String, terrain: Terrain? = nil, corrections: ObservationCorrections = .none) throws -> ObservationProcessor {
        ObservationProcessor(instrument: instrument, kernel: try kernel(name), calibration: calibration, terrain: terrain, corrections: corrections)
    }

    /// The mission's shape models (`dem/*.dem.tif` with their side files), read by Areo's reader.
    public func shapeModels() throws -> [ShapeModel] {
        let folder = directory.appendingPathComponent("dem")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        return try names.filter { $0.hasSuffix(".dem.tif") }.sorted().map { try ShapeModelFile.read(path: folder.appendingPathComponent($0).path) }
    }

    /// The stored payload of `reference` as a loader.
    public var payloads: PayloadLoader {
        let fragments = self.fragments
        return { reference in
            guard let payload = fragments[reference] else { throw ProcessingError(.fragmentUnreadable, "no fragment \(reference.header.frameletIndex)") }
            return payload
        }
    }
}
