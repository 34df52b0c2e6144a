/// A CCSDS space packet as the ICD defines it (§3): 6-byte primary header, 8-byte secondary
/// header (SCLK, service type and subtype), user data, CRC-16.
public struct SpacePacket: Sendable, Hashable {
    /// Largest packet, in octets.
    public static let maximumSize = 1024
    /// Primary + secondary header.
    public static let headerSize = 14
    /// Smallest well-formed packet: headers and the CRC, no user data.
    public static let minimumSize = headerSize + 2

    /// Well-known application process ids.
    public enum APID {
        public static let science: UInt16 = 1200
        public static let housekeeping: UInt16 = 1201
        public static let idle: UInt16 = 2047
    }

    /// Segmentation of the packet's content (two bits).
    public enum SequenceFlags: UInt8, Sendable, Codable {
        case continuation = 0b00
        case first = 0b01
        case last = 0b10
        case unsegmented = 0b11
    }

    /// The whole packet, byte-exact as received.
    public let bytes: [UInt8]

    /// Wraps `bytes` (at least ``minimumSize`` of them); validate with ``violations``.
    public init(bytes: [UInt8]) {
        precondition(bytes.count >= Self.minimumSize)
        self.bytes = bytes
    }

    private var reader: BigEndianReader<[UInt8]> { BigEndianReader(bytes) }

    public var version: UInt8 { bytes[0] >> 5 }
    public var isTelecommand: Bool { bytes[0] & 0x10 != 0 }
    public var hasSecondaryHeader: Bool { bytes[0] & 0x08 != 0 }
    public var apid: UInt16 { reader.u16(0) & 0x07FF }
    public var sequenceFlags: SequenceFlags { SequenceFlags(rawValue: bytes[2] >> 6)! }
    /// 14-bit per-APID counter, wrapping 16383 → 0.
    public var sequenceCount: UInt16 { reader.u16(2) & 0x3FFF }
    /// Octets in the data field − 1.
    public var dataLengthField: UInt16 { reader.u16(4) }
    public var sclk: SpacecraftClock { SpacecraftClock(coarse: reader.u32(6), fine: reader.u16(10)) }
    public var serviceType: UInt8 { bytes[12] }
    public var serviceSubtype: UInt8 { bytes[13] }
    /// The user data, between the secondary header and the CRC.
    public var userData: ArraySlice<UInt8> { bytes[Self.headerSize..<(bytes.count - 2)] }
    public var storedCRC: UInt16 { reader.u16(bytes.count - 2) }
    public var computedCRC: UInt16 { CRC16.checksum(bytes[0..<(bytes.count - 2)]) }
    public var isCRCValid: Bool { storedCRC == computedCRC }

    /// The rules of ICD §3 this packet breaks (empty when well-formed), CRC aside.
    public var structuralViolations: [String] {
        Self.structuralViolations(firstOctet: bytes[0], dataLengthField: dataLengthField, count: bytes.count)
    }

    /// The rules of ICD §3 a packet of `count` octets breaks, from its first octet and its
    /// data length field alone (so a scanner can judge a candidate without copying it).
    public static func structuralViolations(firstOctet: UInt8, dataLengthField: UInt16, count: Int) -> [String] {
        var rules: [String] = []
        let version = firstOctet >> 5
        if version != 0 { rules.append("ICD §3: packet version must be 0, is \(version)") }
        if firstOctet & 0x10 != 0 { rules.append("ICD §3: packet type must be 0 (telemetry)") }
        if firstOctet & 0x08 == 0 { rules.append("ICD §3: secondary header flag must be 1") }
        if Int(dataLengthField) + 7 != count {
            rules.append("ICD §3: packet data length field \(dataLengthField) + 7 ≠ record length \(count)")
        }
        if count > Self.maximumSize { rules.append("ICD §3: packet of \(count) octets exceeds 1024") }
        return rules
    }

    /// Builds a packet (for simulators and tests): fills in the length field and the CRC.
    /// A fragment's bytes cut into the user data of consecutive APID 1200 packets (ICD §4): at
    /// most ``maximumUserData`` octets each, flagged first … continuation … last, or unsegmented.
    public static func segments(_ bytes: [UInt8]) -> [(flags: SequenceFlags, userData: ArraySlice<UInt8>)] {
        let chunks = stride(from: 0, to: bytes.count, by: maximumUserData).map { bytes[$0..<min($0 + maximumUserData, bytes.count)] }
        return chunks.enumerated().map { index, chunk in
            (chunks.count == 1 ? .unsegmented : index == 0 ? .first : index == chunks.count - 1 ? .last : .continuation, chunk)
        }
    }

    /// The most user data a packet carries (ICD §3: at most 1024 octets in all).
    public static let maximumUserData = 1008

    public static func make(
        apid: UInt16, flags: SequenceFlags, sequenceCount: UInt16, sclk: SpacecraftClock,
        serviceType: UInt8, serviceSubtype: UInt8, userData: some Collection<UInt8>
    ) -> SpacePacket {
        var out: [UInt8] = []
        out.reserveCapacity(headerSize + userData.count + 2)
        out.appendBigEndian(UInt16(0x0800) | (apid & 0x07FF))
        out.appendBigEndian(UInt16(flags.rawValue) << 14 | (sequenceCount & 0x3FFF))
        out.appendBigEndian(UInt16(8 + userData.count + 2 - 1))
        out.appendBigEndian(sclk.coarse)
        out.appendBigEndian(sclk.fine)
        out.append(serviceType)
        out.append(serviceSubtype)
        out.append(contentsOf: userData)
        out.appendBigEndian(CRC16.checksum(out))
        return SpacePacket(bytes: out)
    }
}
