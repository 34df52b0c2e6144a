import NIOCore
import PostgresNIO

/// Rows in PostgreSQL's `COPY … FROM STDIN` text format (tab-separated columns, one row per line,
/// backslash escapes), built straight into a `ByteBuffer` for `PostgresConnection.copyFrom`.
///
/// Only the value kinds bulk ingest needs are offered, and none of them can contain a tab, a
/// newline or a backslash except `bytea`, which is written in hex form with its backslash escaped.
///
/// ```swift
/// var rows = CopyTextRows()
/// rows.append(42); rows.append(true); rows.append(bytea: [0xCA, 0xFE]); rows.endRow()
/// try await connection.copyFrom(table: "t", columns: ["n", "b", "raw"], logger: logger) { try await $0.write(rows.buffer) }
/// ```
public struct CopyTextRows: Sendable {
    /// The encoded rows.
    public private(set) var buffer: ByteBuffer
    private var columnsInRow = 0

    public init(capacity: Int = 1 << 16) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    private mutating func separate() {
        if columnsInRow > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
        columnsInRow += 1
    }

    /// An integer column.
    public mutating func append(_ value: Int) {
        separate()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { target in
            var magnitude = value.magnitude
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // scratch for up to 20 digits, written backwards
            return withUnsafeMutableBytes(of: &digits) { scratch in
                var count = 0
                repeat {
                    scratch[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                    magnitude /= 10
                    count += 1
                } while magnitude > 0
                var written = 0
                if value < 0 { target[0] = UInt8(ascii: "-"); written = 1 }
                for i in (20 - count)..<20 { target[written] = scratch[i]; written += 1 }
                return written
            }
        }
    }

    /// A `double precision` column, written so that it reads back bit-exact (shortest round trip).
    public mutating func append(_ value: Double) {
        separate()
        buffer.writeString(value.description)
    }

    /// A boolean column.
    public mutating func append(_ value: Bool) {
        separate()
        buffer.writeInteger(value ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    /// A `bytea` column in hex form (`\\x…` once the COPY escape is applied).
    public mutating func append(bytea bytes: [UInt8]) {
        separate()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 3 + 2 * bytes.count) { target in
            target[0] = UInt8(ascii: "\\")
            target[1] = UInt8(ascii: "\\")
            target[2] = UInt8(ascii: "x")
            bytes.withUnsafeBufferPointer { source in
                var index = 3
                for byte in source {
                    target[index] = Self.hexDigit(byte >> 4)
                    target[index + 1] = Self.hexDigit(byte & 0x0F)
                    index += 2
                }
            }
            return 3 + 2 * bytes.count
        }
    }

    @inline(__always) private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// Ends the current row.
    public mutating func endRow() {
        buffer.writeInteger(UInt8(ascii: "\n"))
        columnsInRow = 0
    }
}

extension PSQLError {
    /// The server refused a row because it broke a unique constraint (SQLSTATE 23505).
    public var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }
}
