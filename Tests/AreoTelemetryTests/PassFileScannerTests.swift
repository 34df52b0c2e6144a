import Foundation
import AreoTelemetry
import Testing

@Suite struct PassFileScannerTests {
    static func records(_ events: [PassFileScanner.Event]) -> [PassFileScanner.Record] {
        events.compactMap { if case .record(let r) = $0 { r } else { nil } }
    }
    static func damage(_ events: [PassFileScanner.Event]) -> [PassFileScanner.Damage] {
        events.compactMap { if case .damage(let d) = $0 { d } else { nil } }
    }

    @Test func cleanMissionReadsWithoutDamage() throws {
        var total = 0
        for pass in try Samples.passes("tiny-clean") {
            let events = PassFileScanner(bytes: pass.bytes).scan()
            #expect(Self.damage(events).isEmpty, "\(pass.name)")
            let records = Self.records(events)
            #expect(records.allSatisfy { $0.packet.isCRCValid })
            // Records tile the file exactly.
            let covered = records.reduce(0) { $0 + DeliveryHeader.size + $1.packet.bytes.count }
            #expect(covered == pass.bytes.count)
            total += records.count
        }
        #expect(total == 1340)  // truth.json packets_total
    }

    @Test func faultyMissionReportsStrayBytesTruncationAndBadCRCs() throws {
        let passes = try Samples.passes("tiny-faults")
        let events = passes.map { PassFileScanner(bytes: $0.bytes).scan() }

        let stray = Self.damage(events[0])
        #expect(stray.count == 1)
        #expect(stray.first?.kind == .strayBytes)
        #expect(stray.first?.length == 13)  // truth: stray_bytes count 13 in pass 1
        #expect(Self.damage(events[1]).isEmpty)
        let truncated = Self.damage(events[2])
        #expect(truncated.map(\.kind) == [.truncatedRecord])
        #expect(truncated.first.map { $0.offset + $0.length } == passes[2].bytes.count)

        let badCRC = events.flatMap(Self.records).filter { !$0.packet.isCRCValid }
        #expect(badCRC.count == 2)  // truth: two bit-flipped packets
    }

    @Test func garbageNeverCrashesOrHangs() {
        var generator = SystemRandomNumberGenerator()
        for size in [0, 1, 17, 18, 40, 1000, 70_000] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let events = PassFileScanner(bytes: bytes).scan()
            // Everything is accounted for: records and damage tile the input.
            let covered = events.reduce(0) { sum, event in
                switch event {
                case .record(let r): sum + DeliveryHeader.size + r.packet.bytes.count
                case .damage(let d): sum + d.length
                }
            }
            #expect(covered == size)
        }
    }
}

@Suite struct PassFileReaderTests {
    static func readAll(_ url: URL) async throws -> [PassFileScanner.Event] {
        var events: [PassFileScanner.Event] = []
        try await PassFileReader(url: url, windowSize: 0).forEachWindow { events.append(contentsOf: $0) }
        return events
    }

    @Test func windowedReadingYieldsTheSameEventsAsWholeFileScanning() async throws {
        for mission in ["tiny-clean", "tiny-faults"] {
            for n in 1...3 {
                let url = Samples.root.appendingPathComponent("\(mission)/pass_00\(n).dds")
                let whole = PassFileScanner(bytes: [UInt8](try Data(contentsOf: url))).scan()
                #expect(try await Self.readAll(url) == whole, "\(mission) pass \(n)")
            }
        }
    }

    @Test func garbageSpanningWindowsIsOneDamagedStretch() async throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("areo-garbage-\(UUID().uuidString).dds")
        defer { try? FileManager.default.removeItem(at: url) }
        let good = try [UInt8](Samples.file("tiny-clean", "pass_001.dds"))
        let garbage = [UInt8](repeating: 0xFF, count: 700_000)
        try Data(good + garbage + good).write(to: url)
        let events = try await Self.readAll(url)
        let damage = events.compactMap { if case .damage(let d) = $0 { d } else { nil } }
        #expect(damage.count == 1)
        #expect(damage.first?.offset == good.count)
        #expect(damage.first?.length == garbage.count)
        #expect(events.count == 1 + 2 * 453)
    }
}

/// Mutation fuzzing of the record, packet, fragment and housekeeping parsers: sample passes with
/// random bit flips, insertions, deletions, duplicated slices and truncation must never crash or
/// hang, and every byte must be accounted for.
@Suite struct ParserFuzzTests {
    @Test func mutatedPassesAreAlwaysFullyAccountedFor() throws {
        var rng = SystemRandomNumberGenerator()
        let originals = try Samples.passes("tiny-faults").map(\.bytes)
        for iteration in 0..<60 {
            var bytes = originals[iteration % originals.count]
            for _ in 0..<Int.random(in: 1...20, using: &rng) {
                let at = Int.random(in: 0..<max(bytes.count, 1), using: &rng)
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: if !bytes.isEmpty { bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng)) }
                case 1: bytes.insert(contentsOf: (0..<Int.random(in: 1...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
                case 2: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...2000, using: &rng)))
                case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 3000)], at: at)
                default: bytes.removeLast(min(bytes.count, Int.random(in: 0...500, using: &rng)))
                }
            }
            let events = PassFileScanner(bytes: bytes).scan()
            var covered = 0
            var pieces: [FragmentAssembler<Int>.Piece] = []
            for event in events {
                switch event {
                case .record(let r):
                    covered += DeliveryHeader.size + r.packet.bytes.count
                    if r.packet.apid == SpacePacket.APID.housekeeping { _ = try? HousekeepingSample.decode(userData: r.packet.userData) }
                    pieces.append(.init(reference: r.offset, flags: r.packet.sequenceFlags, sequenceCount: r.packet.sequenceCount,
                                        crcValid: r.packet.isCRCValid, userData: r.packet.userData))
                case .damage(let d): covered += d.length
                }
            }
            #expect(covered == bytes.count)
            for fragment in FragmentAssembler<Int>().assemble(pieces).fragments {
                _ = fragment.header?.violations
            }
        }
    }

    @Test func randomFragmentHeadersNeverCrash() {
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...80)).map { _ in UInt8.random(in: 0...255) }
            if let header = FragmentHeader(bytes: bytes) {
                _ = header.violations
                #expect(FragmentHeader(bytes: header.bytes) == header)
            } else {
                #expect(bytes.count < FragmentHeader.size)
            }
        }
    }
}
