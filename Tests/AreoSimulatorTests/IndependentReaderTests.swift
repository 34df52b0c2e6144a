import AreoCodecs
import AreoProcessing
import AreoSimulator
import AreoTelemetry
import AreoTestSupport
import Crypto
import Foundation
import Testing

/// The simulator's passes read by independent readers — ccsdspy (PyPI) for the space packets,
/// libaec's `aec` tool for the CCSDS 121.0 payloads — agree with Areo byte for byte; and the
/// simulator is deterministic.
@Suite struct IndependentReaderTests {
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: Data) {
        let (status, output) = try TestProcess.run(URL(fileURLWithPath: executable), arguments, mergeErrors: false)
        return (status, Data(output.utf8))
    }

    static func passFiles(_ directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".dds") }.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test func ccsdspyReadsTheSamePacketsAsAreo() async throws {
        let directory = try await SimulatedMission.clean()
        let python = ProcessInfo.processInfo.environment["AREO_TEST_PYTHON"] ?? "/usr/bin/python3"
        let script = TestDatabase.repositoryRoot.appendingPathComponent("scripts/python/ccsds_read_packets.py").path
        let files = try Self.passFiles(directory)
        let (status, output) = try Self.run(python, [script] + files.map(\.path))
        try #require(status == 0, "ccsdspy is needed: scripts/test installs it into .build/python")
        let theirs = try #require(try JSONSerialization.jsonObject(with: output) as? [[Any]])
        var ours: [[String]] = []
        for file in files {
            for case .record(let record) in PassFileScanner(bytes: [UInt8](try Data(contentsOf: file))).scan() {
                let p = record.packet
                ours.append([String(p.apid), String(p.sequenceCount), String(p.sequenceFlags.rawValue), SHA256.hash(data: p.bytes).map { String(format: "%02x", $0) }.joined()])
            }
        }
        #expect(ours.count > 500)
        #expect(theirs.count == ours.count)
        #expect(theirs.map { $0.map { "\($0)" } } == ours)
    }

    @Test func aecDecodesAndEncodesTheSamePayloads() async throws {
        let directory = try await SimulatedMission.clean()
        let tool = try #require(["/usr/bin/aec", "/usr/local/bin/aec"].first { FileManager.default.isExecutableFile(atPath: $0) }, "install libaec-tools")
        let mission = try MissionFiles(directory: directory)
        let fragments = mission.fragments.filter { $0.key.header.compression == .ccsds121 }.sorted { $0.key.header.frameletIndex < $1.key.header.frameletIndex }
        #expect(fragments.count >= 40)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("areo-aec-sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        for (reference, payload) in fragments.prefix(8) {
            let bits = String(reference.header.bitsPerSample)
            let compressed = work.appendingPathComponent("in.rz"), raw = work.appendingPathComponent("out.raw"), again = work.appendingPathComponent("again.rz")
            try Data(payload).write(to: compressed)
            #expect(try Self.run(tool, ["-d", "-n", bits, "-j", "16", "-r", "128", compressed.path, raw.path]).status == 0)
            let bytes = [UInt8](try Data(contentsOf: raw))
            let theirs = (0..<(bytes.count / 2)).map { UInt16(bytes[2 * $0]) | UInt16(bytes[2 * $0 + 1]) << 8 }
            let ours = try FragmentDecoder.samples(header: reference.header, payload: payload)
            #expect(theirs == ours)
            // Encoding the samples again with aec gives the simulator's payload, byte for byte.
            #expect(try Self.run(tool, ["-n", bits, "-j", "16", "-r", "128", raw.path, again.path]).status == 0)
            #expect([UInt8](try Data(contentsOf: again)) == payload)
        }
    }

    @Test func theSameSeedWritesTheSameMission() async throws {
        let first = try await SimulatedMission.clean()
        var options = SimulationOptions()
        (options.seed, options.orbits, options.truthMaps) = (11, 1, false)
        let second = FileManager.default.temporaryDirectory.appendingPathComponent("areo-sim-again-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: second) }
        _ = try await MissionSimulator(options: options, dictionary: SimulatedMission.dictionary).run(into: second)
        for name in ["pass_001.dds", "pass_002.dds", "pass_003.dds", "mission.plan.jsonl", "geometry/predicted.json", "truth.json", "calibration/cal-0001/pan_flat.f32"] {
            let a = try Data(contentsOf: first.appendingPathComponent(name)), b = try Data(contentsOf: second.appendingPathComponent(name))
            #expect(a == b, "\(name) differs between two runs with seed 11")
        }
        options.seed = 12
        let third = FileManager.default.temporaryDirectory.appendingPathComponent("areo-sim-other-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: third) }
        _ = try await MissionSimulator(options: options, dictionary: SimulatedMission.dictionary).run(into: third)
        #expect(try Data(contentsOf: first.appendingPathComponent("pass_001.dds")) != Data(contentsOf: third.appendingPathComponent("pass_001.dds")))
    }
}
