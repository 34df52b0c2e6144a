/// Writes pass-file records (ICD §2) and cuts fragments into packets (ICD §4): for simulators,
/// benchmarks and tests.
public struct PassFileWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    /// Next sequence count per APID.
    public private(set) var sequenceCounts: [UInt16: UInt16] = [:]

    public init() {}

    /// Appends one record: delivery header and packet.
    public mutating func append(_ packet: SpacePacket, ertMicroseconds: Int64, station: UInt16 = 65, virtualChannel: UInt16 = 0, timeQuality: UInt8 = 0) {
        let header = DeliveryHeader(
            ertSeconds: UInt32(ertMicroseconds / 1_000_000), ertMicroseconds: UInt32(ertMicroseconds % 1_000_000),
            packetLength: UInt32(packet.bytes.count), stationID: station, virtualChannel: virtualChannel,
            deliveryServiceType: 1, timeQuality: timeQuality)
        bytes.append(contentsOf: header.bytes)
        bytes.append(contentsOf: packet.bytes)
    }

    /// The next sequence count of `apid` (and advances it, wrapping 16383 → 0).
    public mutating func nextSequenceCount(_ apid: UInt16) -> UInt16 {
        let count = sequenceCounts[apid, default: 0]
        sequenceCounts[apid] = (count + 1) & 0x3FFF
        return count
    }

    /// Cuts `fragment` (64-byte header + payload) into APID 1200 packets of at most 1008 octets
    /// of user data, stamped `sclk` plus `tick` fine units per packet.
    public mutating func fragmentPackets(_ fragment: [UInt8], sclk: SpacecraftClock, tick: Int = 33) -> [SpacePacket] {
        SpacePacket.segments(fragment).enumerated().map { index, segment in
            let ticks = sclk.ticks + Int64(index * tick)
            return SpacePacket.make(
                apid: SpacePacket.APID.science, flags: segment.flags, sequenceCount: nextSequenceCount(SpacePacket.APID.science),
                sclk: SpacecraftClock(coarse: UInt32(ticks >> 16), fine: UInt16(ticks & 0xFFFF)),
                serviceType: 200, serviceSubtype: 1, userData: segment.userData)
        }
    }

    /// Takes the bytes written so far, leaving the writer empty (sequence counts continue).
    public mutating func drain() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}
