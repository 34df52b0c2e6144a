import NIOCore
import PostgresNIO

/// Rows in PostgreSQL's `COPY … FROM STDIN` text format (tab-separated columns, one row per line,
/// backslash escapes), built straight into a `ByteBuffer` for `PostgresConnection.copyFrom`.
///
/// Only integer columns are offered (what bulk ingest's receptions need); they can contain no tab,
/// newline or backslash, so nothing needs escaping.
///
/// ```swift
/// var rows = CopyTextRows()
/// rows.append(42); rows.append(-7); rows.endRow()
/// try await connection.copyFrom(table: "t", columns: ["a", "b"], logger: logger) { try await $0.write(rows.buffer) }
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
