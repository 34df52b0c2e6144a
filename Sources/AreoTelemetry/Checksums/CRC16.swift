/// CRC-16/CCITT-FALSE (ICD §3): polynomial 0x1021, initial 0xFFFF, no reflection, no final xor.
///
/// Computed eight octets at a time ("slicing-by-8"): table k gives the CRC contribution of an
/// octet followed by k zero octets, so eight lookups replace eight dependent table steps.
public enum CRC16 {
    static let table: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }

    /// Eight tables of 256 entries, one after the other: `slices[k·256 + b]` is the CRC of octet
    /// b followed by k zero octets (starting from 0).
    static let slices: [UInt16] = {
        var slices = table
        for k in 1..<8 {
            for b in 0..<256 {
                let previous = slices[(k - 1) * 256 + b]
                slices.append((previous << 8) ^ table[Int(previous >> 8)])
            }
        }
        return slices
    }()

    /// The checksum of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt16 {
        if let crc = bytes.withContiguousStorageIfAvailable({ checksum(UnsafeRawBufferPointer($0)) }) { return crc }
        return Array(bytes).withUnsafeBytes { checksum($0) }
    }

    /// The checksum of the bytes in `buffer` (the fast path every packet takes).
    public static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        slices.withUnsafeBufferPointer { t in
            var at = 0
            let count = buffer.count
            while at + 8 <= count {
                let b0 = buffer[at] ^ UInt8(truncatingIfNeeded: crc >> 8), b1 = buffer[at + 1] ^ UInt8(truncatingIfNeeded: crc)
                crc = t[7 * 256 + Int(b0)] ^ t[6 * 256 + Int(b1)] ^ t[5 * 256 + Int(buffer[at + 2])] ^ t[4 * 256 + Int(buffer[at + 3])]
                    ^ t[3 * 256 + Int(buffer[at + 4])] ^ t[2 * 256 + Int(buffer[at + 5])] ^ t[256 + Int(buffer[at + 6])] ^ t[Int(buffer[at + 7])]
                at += 8
            }
            while at < count {
                crc = (crc << 8) ^ t[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ buffer[at])]
                at += 1
            }
        }
        return crc
    }

    /// The same checksum one octet at a time (the definition the sliced form is tested against).
    static func bytewise(_ buffer: UnsafeRawBufferPointer) -> UInt16 {
        var crc: UInt16 = 0xFFFF
        for byte in buffer { crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)] }
        return crc
    }
}
