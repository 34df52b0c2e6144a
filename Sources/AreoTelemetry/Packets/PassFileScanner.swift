/// Reads the records of a pass file (ICD §2) and says what is wrong with the rest.
///
/// The scanner never stops on bad input. A record whose header is implausible, whose packet
/// breaks ICD §3's structure, or that runs past the end of the file is reported as damage with
/// its offset and the rule; the scanner then resynchronises on the next offset where a plausible
/// record starts (structurally valid, and either its CRC is good or the record after it is valid
/// too) and goes on. Packets with a bad CRC but a sound structure are delivered, flagged.
public struct PassFileScanner: Sendable {
    /// One thing found in the file.
    public enum Event: Sendable, Equatable {
        /// A record with a structurally valid packet (its CRC may still be bad).
        case record(Record)
        /// Bytes that are not a valid record, skipped.
        case damage(Damage)
    }

    /// A delivery record: header and packet, and where it starts in the file.
    public struct Record: Sendable, Equatable {
        public let offset: Int
        public let header: DeliveryHeader
        public let packet: SpacePacket
    }

    /// Skipped bytes: where, how many, and which rule they break.
    public struct Damage: Sendable, Equatable {
        public enum Kind: String, Sendable, Codable {
            /// Bytes between records that are no record at all.
            case strayBytes = "stray_bytes"
            /// The last record runs past the end of the file.
            case truncatedRecord = "truncated_record"
        }
        public let kind: Kind
        public let offset: Int
        public let length: Int
        public let rule: String
    }

    let bytes: [UInt8]
    /// Offset of `bytes[0]` in the file.
    let baseOffset: Int
    /// Whether `bytes` runs to the end of the file; otherwise the scanner stops where a record or
    /// a resynchronisation could need bytes beyond the window.
    let isFinal: Bool

    /// Bytes a record and the record after it may need: what a window must hold past a position.
    public static let lookahead = 2 * (DeliveryHeader.size + DeliveryHeader.plausiblePacketLengths.upperBound) + 1

    /// A scanner over a whole file.
    public init(bytes: [UInt8]) {
        self.init(window: bytes, baseOffset: 0, isFinal: true)
    }

    /// A scanner over a window of a file starting at `baseOffset`.
    public init(window: [UInt8], baseOffset: Int, isFinal: Bool) {
        self.bytes = window
        self.baseOffset = baseOffset
        self.isFinal = isFinal
    }

    /// Every record and every damaged stretch, in file order.
    public func scan() -> [Event] {
        var events: [Event] = []
        forEachEvent { events.append($0) }
        return events
    }

    /// Calls `body` for every record and damaged stretch in file order, without collecting them.
    /// - Returns: how many bytes of the window were consumed (all of them for a final window).
    @discardableResult
    public func forEachEvent(_ body: (Event) throws -> Void) rethrows -> Int {
        // In a non-final window, stop where what follows might not be in the window yet.
        let stop = isFinal ? bytes.count : max(0, bytes.count - Self.lookahead)
        var offset = 0
        while offset < stop {
            switch check(at: offset) {
            case .valid(let record, let next):
                try body(.record(record))
                offset = next
            case .runsPastEnd(let why):
                let rule = why.rule
                // Either truly the last record, cut short, or garbage: look for a valid record after it.
                if let resume = nextValidOffset(after: offset, before: stop) {
                    try body(.damage(damage(.strayBytes, offset, resume - offset, rule)))
                    offset = resume
                } else if isFinal {
                    try body(.damage(damage(.truncatedRecord, offset, bytes.count - offset, rule)))
                    offset = bytes.count
                } else {
                    try body(.damage(damage(.strayBytes, offset, stop - offset, rule)))
                    offset = stop
                }
            case .invalid(let why):
                let rule = why.rule
                let resume = nextValidOffset(after: offset, before: stop) ?? stop
                let kind: Damage.Kind = isFinal && resume == bytes.count && bytes.count - offset < DeliveryHeader.size
                    ? .truncatedRecord : .strayBytes
                try body(.damage(damage(kind, offset, resume - offset, rule)))
                offset = resume
            }
        }
        return offset
    }

    private func damage(_ kind: Damage.Kind, _ offset: Int, _ length: Int, _ rule: String) -> Damage {
        Damage(kind: kind, offset: baseOffset + offset, length: length, rule: rule)
    }

    enum Check {
        case valid(Record, next: Int)
        case runsPastEnd(Rejection)
        case invalid(Rejection)
    }

    /// Why no record starts at an offset. Kept as values and put into words only when reported:
    /// resynchronising tries every offset of a damaged stretch, and a message per offset would
    /// cost more than the check itself.
    enum Rejection {
        case shortHeader(remaining: Int)
        case implausibleLength(Int)
        case ertMicroseconds(UInt32)
        case timeQuality(UInt8)
        case pastEnd(length: Int, beyond: Int)
        case structure(firstOctet: UInt8, dataLength: UInt16, count: Int)

        var rule: String {
            switch self {
            case .shortHeader(let remaining): "ICD §2: \(remaining) byte(s) left, fewer than an 18-byte delivery header"
            case .implausibleLength(let length): "ICD §2: implausible packet length \(length) (must be 16…65542)"
            case .ertMicroseconds(let value): "ICD §2: ERT microseconds \(value) ≥ 1 000 000"
            case .timeQuality(let value): "ICD §2: time quality \(value) is not 0, 1 or 2"
            case .pastEnd(let length, let beyond): "ICD §2: record of \(length)-byte packet runs \(beyond) byte(s) past the end of the file"
            case .structure(let first, let dataLength, let count):
                SpacePacket.structuralViolations(firstOctet: first, dataLengthField: dataLength, count: count).first ?? "ICD §3: malformed packet"
            }
        }
    }

    func check(at offset: Int) -> Check {
        let remaining = bytes.count - offset
        guard remaining >= DeliveryHeader.size else {
            return .runsPastEnd(.shortHeader(remaining: remaining))
        }
        // The length field first: at a random offset it is almost never plausible (two high
        // octets must be zero), so a damaged stretch costs four octet reads per offset.
        guard bytes[offset + 8] == 0, bytes[offset + 9] <= 1 else {
            let length = Int(UInt32(bytes[offset + 8]) << 24 | UInt32(bytes[offset + 9]) << 16 | UInt32(bytes[offset + 10]) << 8 | UInt32(bytes[offset + 11]))
            return .invalid(.implausibleLength(length))
        }
        let header = DeliveryHeader(bytes, at: offset)
        let length = Int(header.packetLength)
        guard DeliveryHeader.plausiblePacketLengths.contains(length) else {
            return .invalid(.implausibleLength(length))
        }
        guard header.ertMicroseconds < 1_000_000 else {
            return .invalid(.ertMicroseconds(header.ertMicroseconds))
        }
        guard header.timeQuality <= 2 else {
            return .invalid(.timeQuality(header.timeQuality))
        }
        let start = offset + DeliveryHeader.size
        guard start + length <= bytes.count else {
            return .runsPastEnd(.pastEnd(length: length, beyond: start + length - bytes.count))
        }
        // Judged from two octets before anything is copied: resynchronising over damaged bytes
        // tries every offset, so a candidate must cost O(1), not O(its claimed length).
        let dataLength = UInt16(bytes[start + 4]) << 8 | UInt16(bytes[start + 5])
        let first = bytes[start]
        if first >> 5 != 0 || first & 0x18 != 0x08 || Int(dataLength) + 7 != length || length > SpacePacket.maximumSize {
            return .invalid(.structure(firstOctet: first, dataLength: dataLength, count: length))
        }
        let packet = SpacePacket(bytes: Array(bytes[start..<(start + length)]))
        return .valid(Record(offset: baseOffset + offset, header: header, packet: packet), next: start + length)
    }

    /// The first offset after `offset` where a record can be trusted to start.
    func nextValidOffset(after offset: Int, before limit: Int) -> Int? {
        var candidate = offset + 1
        while candidate < limit && candidate + DeliveryHeader.size + SpacePacket.minimumSize <= bytes.count {
            if case .valid(let record, let next) = check(at: candidate) {
                if record.packet.isCRCValid { return candidate }
                if next == bytes.count { return candidate }
                if case .valid = check(at: next) { return candidate }
            }
            candidate += 1
        }
        return nil
    }
}
