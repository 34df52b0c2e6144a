import AreoTelemetry

/// Turns a fragment's payload into its samples (ICD §4): `lines × samples` DN values, row-major.
public enum FragmentDecoder {
    /// Decodes `payload` as its header says.
    /// - Throws: ``CodecError`` when the payload does not decode to `lines × samples` samples.
    public static func samples(header: FragmentHeader, payload: some Collection<UInt8>) throws(CodecError) -> [UInt16] {
        let count = header.lines * header.samples
        let bits = Int(header.bitsPerSample)
        switch header.compression {
        case .none?:
            guard payload.count == count * 2 else {
                throw CodecError(.raw, "payload has \(payload.count) octets, \(count) samples need \(count * 2)")
            }
            let bytes = Array(payload)
            return (0..<count).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        case .ccsds121?:
            return try CCSDS121.decode(payload, bits: bits, count: count)
        case .jpeg?:
            let image = try JPEG.decodeGray(payload)
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
