/// Reassembles image fragments from the packets of APID 1200 (ICD §4).
///
/// Input: the packets in generation order (by corrected SCLK, then sequence count), each with a
/// caller-chosen reference. A fragment is first (01) … continuation (00) … last (10), or one
/// unsegmented (11) packet, with consecutive sequence counts (mod 16 384). Output: every fragment
/// started, each with its status, and the packets that belong to no fragment (orphans whose first
/// segment is missing). The last fragment may still be *open*: neither ended nor followed by
/// another, so a later pass may complete it.
public struct FragmentAssembler<Reference: Sendable & Hashable>: Sendable {
    /// One packet handed to the assembler.
    public struct Piece: Sendable {
        public let reference: Reference
        public let flags: SpacePacket.SequenceFlags
        public let sequenceCount: UInt16
        public let crcValid: Bool
        public let userData: ArraySlice<UInt8>

        public init(reference: Reference, flags: SpacePacket.SequenceFlags, sequenceCount: UInt16, crcValid: Bool, userData: ArraySlice<UInt8>) {
            self.reference = reference
            self.flags = flags
            self.sequenceCount = sequenceCount
            self.crcValid = crcValid
            self.userData = userData
        }
    }

    /// What became of a fragment.
    public enum Status: String, Sendable, Codable {
        /// All packets, payload length and CRC-32 good.
        case complete
        /// Packets missing (a sequence gap inside it, or it ended without its last segment).
        case incomplete
        /// All packets present but a packet CRC-16 or the payload CRC-32 or length is wrong.
        case corrupt
        /// Not ended yet and nothing after it: may be completed by a later pass.
        case open
    }

    /// A reassembled (or partly reassembled) fragment.
    public struct Fragment: Sendable {
        public var references: [Reference]
        /// 64-byte header + payload, as received.
        public var bytes: [UInt8]
        public var status: Status
        /// Why it is not complete, in the ICD's terms.
        public var problems: [String]
        /// Packets missing inside it, as far as sequence counts tell.
        public var missingPackets: Int

        public var header: FragmentHeader? { FragmentHeader(bytes: bytes) }
        public var payload: ArraySlice<UInt8> { bytes.count >= FragmentHeader.size ? bytes[FragmentHeader.size...] : [] }
    }

    public struct Result: Sendable {
        public var fragments: [Fragment] = []
        /// Continuation or last packets with no first segment before them.
        public var orphans: [Reference] = []

        public init(fragments: [Fragment] = [], orphans: [Reference] = []) {
            self.fragments = fragments
            self.orphans = orphans
        }
    }

    private var current: Fragment? = nil
    private var lastSequence: UInt16 = 0
    private var packetCRCBad = false
    /// Fragments finished and orphans found since the last ``drain()``.
    private var finished = Result()

    public init() {}

    /// Reassembles `pieces`, which must be in generation order.
    public func assemble(_ pieces: [Piece]) -> Result {
        var assembler = self
        for piece in pieces { assembler.add(piece) }
        assembler.close()
        return assembler.drain()
    }

    /// Feeds the next piece in generation order (streaming use: memory holds one fragment).
    public mutating func add(_ piece: Piece) {
        switch piece.flags {
        case .first, .unsegmented:
            finish(ended: false)
            current = Fragment(references: [piece.reference], bytes: Array(piece.userData), status: .open, problems: [], missingPackets: 0)
            packetCRCBad = !piece.crcValid
            lastSequence = piece.sequenceCount
            if piece.flags == .unsegmented { finish(ended: true) }
        case .continuation, .last:
            guard current != nil else {
                finished.orphans.append(piece.reference)
                return
            }
            let expected = (lastSequence &+ 1) & 0x3FFF
            if piece.sequenceCount != expected {
                let gap = Int((piece.sequenceCount &- expected) & 0x3FFF)
                current!.missingPackets += gap
                current!.status = .incomplete
                current!.problems.append("ICD §3: sequence count jumps from \(lastSequence) to \(piece.sequenceCount) inside the fragment")
            }
            current!.references.append(piece.reference)
            current!.bytes.append(contentsOf: piece.userData)
            packetCRCBad = packetCRCBad || !piece.crcValid
            lastSequence = piece.sequenceCount
            if piece.flags == .last { finish(ended: true) }
        }
    }

    /// No more pieces: the fragment still being built is kept *open* (a later pass may end it).
    public mutating func close() {
        if var open = current {
            if open.status != .incomplete { open.status = .open }
            finished.fragments.append(open)
            current = nil
        }
    }

    /// Takes the fragments finished and the orphans found so far.
    public mutating func drain() -> Result {
        defer { finished = Result() }
        return finished
    }

    private mutating func finish(ended: Bool) {
        guard var fragment = current else { return }
        current = nil
        if ended, fragment.status == .open { fragment.status = .complete }
        if !ended {
            fragment.status = .incomplete
            fragment.problems.append("ICD §4: fragment has no last segment")
        }
        if fragment.status != .incomplete {
            if let header = fragment.header {
                let payloadCount = fragment.bytes.count - FragmentHeader.size
                if payloadCount != Int(header.payloadLength) {
                    fragment.status = .corrupt
                    fragment.problems.append("ICD §4: payload has \(payloadCount) octets, header says \(header.payloadLength)")
                } else if CRC32.checksum(fragment.payload) != header.payloadCRC {
                    fragment.status = .corrupt
                    fragment.problems.append("ICD §4: payload CRC-32 mismatch")
                }
            } else {
                fragment.status = .corrupt
                fragment.problems.append("ICD §4: fragment shorter than its 64-byte header")
            }
            if packetCRCBad {
                fragment.status = .corrupt
                fragment.problems.append("ICD §3: a packet of the fragment failed its CRC-16")
            }
        }
        finished.fragments.append(fragment)
    }
}
