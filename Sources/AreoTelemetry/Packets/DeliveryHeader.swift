/// The 18-byte delivery header in front of every packet of a pass file (ICD §2).
public struct DeliveryHeader: Sendable, Hashable {
    public static let size = 18
    /// Smallest and largest plausible packet lengths; outside them the stream is damaged.
    public static let plausiblePacketLengths = 16...65_542

    public var ertSeconds: UInt32
    public var ertMicroseconds: UInt32
    public var packetLength: UInt32
    public var stationID: UInt16
    public var virtualChannel: UInt16
    public var deliveryServiceType: UInt8
    /// 0 good, 1 inaccurate, 2 bad.
    public var timeQuality: UInt8

    public init(
        ertSeconds: UInt32, ertMicroseconds: UInt32, packetLength: UInt32, stationID: UInt16,
        virtualChannel: UInt16, deliveryServiceType: UInt8, timeQuality: UInt8
    ) {
        self.ertSeconds = ertSeconds
        self.ertMicroseconds = ertMicroseconds
        self.packetLength = packetLength
        self.stationID = stationID
        self.virtualChannel = virtualChannel
        self.deliveryServiceType = deliveryServiceType
        self.timeQuality = timeQuality
    }

    /// Reads the header at the start of `bytes` (at least 18 bytes).
    @inlinable
    public init<Bytes: RandomAccessCollection>(bytes: Bytes) where Bytes.Element == UInt8, Bytes.Index == Int {
        let r = BigEndianReader(bytes)
        self.init(
            ertSeconds: r.u32(0), ertMicroseconds: r.u32(4), packetLength: r.u32(8), stationID: r.u16(12),
            virtualChannel: r.u16(14), deliveryServiceType: r.u8(16), timeQuality: r.u8(17))
    }

    /// Reads the header at `offset` of `bytes` (at least 18 bytes from there) without making a
    /// slice: the scanner reads one at every offset of a damaged stretch.
    @inlinable
    public init(_ bytes: [UInt8], at offset: Int) {
        func u32(_ i: Int) -> UInt32 {
            UInt32(bytes[offset + i]) << 24 | UInt32(bytes[offset + i + 1]) << 16 | UInt32(bytes[offset + i + 2]) << 8 | UInt32(bytes[offset + i + 3])
        }
        func u16(_ i: Int) -> UInt16 { UInt16(bytes[offset + i]) << 8 | UInt16(bytes[offset + i + 1]) }
        self.init(
            ertSeconds: u32(0), ertMicroseconds: u32(4), packetLength: u32(8), stationID: u16(12),
            virtualChannel: u16(14), deliveryServiceType: bytes[offset + 16], timeQuality: bytes[offset + 17])
    }

    /// Earth received time in microseconds since 1970 (Unix).
    public var ertMicrosecondsSinceUnixEpoch: Int64 { Int64(ertSeconds) * 1_000_000 + Int64(ertMicroseconds) }

    /// Whether the fields are within the ICD's ranges.
    public var isPlausible: Bool {
        Self.plausiblePacketLengths.contains(Int(packetLength)) && ertMicroseconds < 1_000_000 && timeQuality <= 2
    }

    /// The 18 bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        out.appendBigEndian(ertSeconds)
        out.appendBigEndian(ertMicroseconds)
        out.appendBigEndian(packetLength)
        out.appendBigEndian(stationID)
        out.appendBigEndian(virtualChannel)
        out.append(deliveryServiceType)
        out.append(timeQuality)
        return out
    }
}
