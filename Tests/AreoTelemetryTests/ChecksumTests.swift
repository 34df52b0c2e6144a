@testable import AreoTelemetry
import Testing

@Suite struct ChecksumTests {
    /// The standard check values of both algorithms ("123456789").
    @Test func checkValues() {
        let input = Array("123456789".utf8)
        #expect(CRC16.checksum(input) == 0x29B1)
        #expect(CRC32.checksum(input) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    /// The eight-octets-at-a-time CRC-16 equals the octet-at-a-time definition for every length
    /// (so every tail length) and content.
    @Test func slicedCRC16EqualsTheBytewiseDefinition() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for length in 0..<300 {
            let bytes = (0..<length).map { _ -> UInt8 in
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                return UInt8(truncatingIfNeeded: state)
            }
            let sliced = bytes.withUnsafeBytes { CRC16.checksum($0) }, bytewise = bytes.withUnsafeBytes { CRC16.bytewise($0) }
            #expect(sliced == bytewise, "length \(length)")
        }
    }

    @Test func builtPacketsCarryAValidCRCAndLength() {
        let packet = SpacePacket.make(
            apid: 1201, flags: .unsegmented, sequenceCount: 16383, sclk: SpacecraftClock(coarse: 7, fine: 9),
            serviceType: 3, serviceSubtype: 25, userData: [0, 1, 0, 1, 0, 2])
        #expect(packet.isCRCValid)
        #expect(packet.structuralViolations.isEmpty)
        #expect(packet.apid == 1201 && packet.sequenceCount == 16383 && packet.sequenceFlags == .unsegmented)
        var flipped = packet.bytes
        flipped[15] ^= 0x04
        #expect(!SpacePacket(bytes: flipped).isCRCValid)
    }

    @Test func clockReadingsRoundTrip() {
        let clock = SpacecraftClock(seconds: 720_000_230.5)
        #expect(clock.coarse == 720_000_230 && clock.fine == 32768)
        #expect(clock.shifted(byWraps: 1).coarse == 720_000_230 - 65536)
    }

    @Test func clockCorrelationExtendsTheNearestSegment() {
        let c = ClockCorrelation(points: [.init(sclk: 100, t: 1000), .init(sclk: 200, t: 1100.5)])
        #expect(c.t(sclk: 150) == 1050.25)
        #expect(abs(c.t(sclk: 300) - 1201.0) < 1e-9)
        #expect(abs(c.sclk(t: c.t(sclk: 250)) - 250) < 1e-9)
        let single = ClockCorrelation(points: [.init(sclk: 10, t: 20)])
        #expect(single.t(sclk: 15) == 25)
        let wraps = ClockCorrelation(points: [.init(sclk: 0, t: 0)]).wraps(fromT: 65000, toT: 190_000)
        #expect(wraps.map(\.coarse) == [65536, 131072])
    }
}
