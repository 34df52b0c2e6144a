/// Reads big-endian integers at fixed offsets of a byte collection (ICD: all binary fields are
/// big-endian unless stated otherwise). Callers check lengths first.
@usableFromInline
struct BigEndianReader<Bytes: RandomAccessCollection> where Bytes.Element == UInt8, Bytes.Index == Int {
    @usableFromInline let bytes: Bytes

    @inlinable init(_ bytes: Bytes) { self.bytes = bytes }

    @inlinable func u8(_ offset: Int) -> UInt8 { bytes[bytes.startIndex + offset] }

    @inlinable func u16(_ offset: Int) -> UInt16 {
        let base = bytes.startIndex + offset
        return UInt16(bytes[base]) << 8 | UInt16(bytes[base + 1])
    }

    @inlinable func u32(_ offset: Int) -> UInt32 {
        let base = bytes.startIndex + offset
        return UInt32(bytes[base]) << 24 | UInt32(bytes[base + 1]) << 16 | UInt32(bytes[base + 2]) << 8 | UInt32(bytes[base + 3])
    }

    @inlinable func i16(_ offset: Int) -> Int16 { Int16(bitPattern: u16(offset)) }
}

extension Array where Element == UInt8 {
    @inlinable mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var big = value.bigEndian
        Swift.withUnsafeBytes(of: &big) { append(contentsOf: $0) }
    }
}
