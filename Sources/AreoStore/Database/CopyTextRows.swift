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
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    public init(capacity: Int = 1 << 16) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    private mutating func separate() {
        if columnsInRow > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
        columnsInRow += 1
    }

    /// An integer column.
    public mutating func append<I: BinaryInteger>(_ value: I) {
        separate()
        buffer.writeString(String(value))
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
    public mutating func append<Bytes: Collection<UInt8>>(bytea bytes: Bytes) {
        separate()
        buffer.reserveCapacity(minimumWritableBytes: 3 + 2 * bytes.count)
        buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 2 * bytes.count) { target in
            var index = 0
            for byte in bytes {
                target[index] = Self.hexDigits[Int(byte >> 4)]
                target[index + 1] = Self.hexDigits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
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
