import AreoTelemetry

/// Turns a fragment's payload into its samples (ICD §4): `lines × samples` DN values, row-major.
public enum FragmentDecoder {
    /// The most samples a fragment may decode to (4096², 32 MiB of samples; a CaSSIS framelet
    /// is at most 2048 × 2048): a bound on what one hostile header can make Areo allocate.
    public static let maximumSamples = 4_096 * 4_096

    /// Decodes `payload` as its header says.
    /// - Throws: ``CodecError`` when the payload does not decode to `lines × samples` samples.
    public static func samples(header: FragmentHeader, payload: some Collection<UInt8>) throws(CodecError) -> [UInt16] {
        let count = header.lines * header.samples
        let bits = Int(header.bitsPerSample)
        // A header from outside may claim a window of 65 535² samples: nothing is allocated for
        // more than a whole 16 384² detector's worth, and never before the header is checked.
        guard count <= maximumSamples else {
            throw CodecError(.raw, "the header's window (\(header.lines) × \(header.samples) samples) is larger than a fragment may be (\(maximumSamples) samples)")
        }
        guard (8...16).contains(bits) else { throw CodecError(.raw, "bits per sample \(bits) is not 8–16") }
        switch header.compression {
        case .none?:
            guard payload.count == count * 2 else {
                throw CodecError(.raw, "payload has \(payload.count) octets, \(count) samples need \(count * 2)")
            }
            let bytes = Array(payload)
            return (0..<count).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        case .ccsds121?:
            // With the ICD's reference sample interval (128 blocks of 16) every 2048 samples begin
            // with a reference sample of ≥ 8 bits, so a payload holds at most 2048 samples per
            // octet: a header claiming more is refused before its samples are allocated.
            guard count <= payload.count * 2_048 else {
                throw CodecError(.ccsds121, "a payload of \(payload.count) octets cannot hold \(count) samples (at most 2048 per octet)")
            }
            return try CCSDS121.decode(payload, bits: bits, count: count)
        case .jpeg?:
            let image = try JPEG.decodeGray(payload, size: (header.samples, header.lines))
            guard image.width == header.samples, image.height == header.lines else {
                throw CodecError(.jpeg, "image is \(image.width)×\(image.height), header says \(header.samples)×\(header.lines)")
            }
            return image.pixels.map { SquareRootCompanding.expand($0, bits: bits) }
        case nil:
            throw CodecError(.raw, "unknown compression \(header.compressionCode)")
        }
    }
}

/// ICD §4's square-root companding for JPEG fragments.
public enum SquareRootCompanding {
    /// `v = round(255·sqrt(DN/(2^bits−1)))`
    public static func compress(_ dn: UInt16, bits: Int) -> UInt8 {
        let maximum = Double((1 << bits) - 1)
        return UInt8(min(255, (255 * (Double(dn) / maximum).squareRoot()).rounded()))
    }

    /// `DN = round((v/255)²·(2^bits−1))`
    public static func expand(_ v: UInt8, bits: Int) -> UInt16 {
        let maximum = Double((1 << bits) - 1)
        let x = Double(v) / 255
        return UInt16((x * x * maximum).rounded())
    }
}
