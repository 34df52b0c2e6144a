internal import CAEC

/// CCSDS 121.0 adaptive Rice coding as ICD §4 fixes it, through libaec: block size 16, reference
/// sample interval 128, unit-delay preprocessing, unsigned samples in 2-byte containers (1 byte
/// when bits ≤ 8).
public enum CCSDS121 {
    public static let blockSize: UInt32 = 16
    public static let referenceSampleInterval: UInt32 = 128

    static func flags(bits: Int) -> UInt32 {
        // Containers handed to libaec are little-endian (no AEC_DATA_MSB); ICD §4: the byte order
        // of the uncompressed containers does not change the compressed stream.
        UInt32(AEC_DATA_PREPROCESS)
    }

    /// Decodes `count` samples of `bits` bits.
    /// - Throws: ``CodecError`` if libaec rejects the stream or it yields a different sample count.
    public static func decode(_ payload: some Collection<UInt8>, bits: Int, count: Int) throws(CodecError) -> [UInt16] {
        guard (1...16).contains(bits) else { throw CodecError(.ccsds121, "bits per sample \(bits) not supported") }
        let width = bits <= 8 ? 1 : 2
        let input = Array(payload)
        if width == 1 {
            var output = [UInt8](repeating: 0, count: count)
            let (status, written) = output.withUnsafeMutableBytes { run(input, into: $0, bits: bits) { aec_buffer_decode($0) } }
            guard status == AEC_OK else { throw CodecError(.ccsds121, "libaec could not decode the payload (status \(status))") }
            guard written == count else { throw CodecError(.ccsds121, "decoded \(written) samples, expected \(count)") }
            return output.map { UInt16($0) }
        }
        // Two-octet samples come out least significant octet first (no AEC_DATA_MSB): decoded
        // straight into the samples' memory, swapped afterwards only on a big-endian host.
        var status: Int32 = AEC_OK, written = 0
        var samples = [UInt16](repeating: 0, count: count)
        samples.withUnsafeMutableBytes { (status, written) = run(input, into: $0, bits: bits) { aec_buffer_decode($0) } }
        guard status == AEC_OK else { throw CodecError(.ccsds121, "libaec could not decode the payload (status \(status))") }
        guard written == count * 2 else { throw CodecError(.ccsds121, "decoded \(written / width) samples, expected \(count)") }
        if 1.littleEndian != 1 { for k in samples.indices { samples[k] = UInt16(littleEndian: samples[k]) } }
        return samples
    }

    /// Encodes samples of `bits` bits exactly as `aec_buffer_encode` does with the ICD's parameters.
    public static func encode(_ samples: [UInt16], bits: Int) throws(CodecError) -> [UInt8] {
        guard (1...16).contains(bits) else { throw CodecError(.ccsds121, "bits per sample \(bits) not supported") }
        let width = bits <= 8 ? 1 : 2
        var input = [UInt8]()
        input.reserveCapacity(samples.count * width)
        for s in samples {
            input.append(UInt8(truncatingIfNeeded: s))
            if width == 2 { input.append(UInt8(truncatingIfNeeded: s >> 8)) }
        }
        var output = [UInt8](repeating: 0, count: input.count * 2 + 1024)
        let (status, written) = output.withUnsafeMutableBytes { run(input, into: $0, bits: bits) { aec_buffer_encode($0) } }
        guard status == AEC_OK else { throw CodecError(.ccsds121, "libaec could not encode (status \(status))") }
        return Array(output.prefix(written))
    }

    /// Runs one libaec buffer operation with the ICD's parameters; returns its status and the
    /// bytes it wrote.
    private static func run(
        _ input: [UInt8], into output: UnsafeMutableRawBufferPointer, bits: Int, _ operation: (UnsafeMutablePointer<aec_stream>) -> Int32
    ) -> (Int32, Int) {
        var stream = aec_stream()
        stream.bits_per_sample = UInt32(bits)
        stream.block_size = blockSize
        stream.rsi = referenceSampleInterval
        stream.flags = flags(bits: bits)
        let status: Int32 = input.withUnsafeBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = inBuffer.count
            stream.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
            stream.avail_out = output.count
            return operation(&stream)
        }
        return (status, Int(stream.total_out))
    }
}
