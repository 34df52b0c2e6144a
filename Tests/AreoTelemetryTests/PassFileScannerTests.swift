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
