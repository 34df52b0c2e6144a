import Logging
import NIOCore
import PostgresNIO

/// Rows in PostgreSQL's binary `COPY` format (signature, flags, then per row a field count and
/// each field as a length and its binary send form), built straight into a `ByteBuffer`.
///
/// The fastest way to bulk-load rows: nothing is printed or parsed as text (a 1 KiB `bytea`
/// travels as its bytes, not as 2 KiB of hex), and PostgreSQL skips the executor work of an
/// `INSERT … SELECT FROM unnest(…)`. Measured on packet rows: 0.66 × the time of the binary-array
/// insert, and about a third of text `COPY`.
///
/// ```swift
/// var rows = CopyBinaryRows(columns: 2)
/// rows.startRow(); rows.append(Int64(42)); rows.append(bytes: [1, 2, 3])
/// try await rows.copy(into: "t", columns: ["a", "b"], connection: connection, logger: logger)
/// ```
public struct CopyBinaryRows: Sendable {
    /// The encoded rows (with the header; the trailer is added when copied).
    public private(set) var buffer: ByteBuffer
    public let columns: Int
    public private(set) var rows = 0

    public init(columns: Int, capacity: Int = 1 << 16) {
        self.columns = columns
        buffer = ByteBufferAllocator().buffer(capacity: capacity + 32)
        buffer.writeBytes([0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])  // "PGCOPY\n\xff\r\n\0"
        buffer.writeInteger(Int32(0))  // flags: no OIDs
        buffer.writeInteger(Int32(0))  // header extension length
    }

    /// Starts a row; exactly `columns` fields must follow.
    public mutating func startRow() {
        buffer.writeInteger(Int16(columns))
        rows += 1
    }

    /// An `int8` field.
    public mutating func append(_ value: Int64) {
        buffer.writeInteger(Int32(8))
        buffer.writeInteger(value)
    }

    /// An `int4` field.
    public mutating func append(_ value: Int32) {
        buffer.writeInteger(Int32(4))
        buffer.writeInteger(value)
    }

    /// An `int2` field.
    public mutating func append(_ value: Int16) {
        buffer.writeInteger(Int32(2))
        buffer.writeInteger(value)
    }

    /// A `float8` field (IEEE 754, sent as its bits).
    public mutating func append(_ value: Double) {
        buffer.writeInteger(Int32(8))
        buffer.writeInteger(value.bitPattern)
    }

    /// A `boolean` field.
    public mutating func append(_ value: Bool) {
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(UInt8(value ? 1 : 0))
    }

    /// A `bytea` field.
    public mutating func append(bytes: some Collection<UInt8>) {
        buffer.writeInteger(Int32(bytes.count))
        buffer.writeBytes(bytes)
    }

    /// Streams the rows into `table` (`columns` in the order the fields were appended).
    ///
    /// PostgresNIO 1.33's `copyFrom` offers only the text format and writes the table name into
    /// its statement as given, so the statement is completed here and the text-format tail it
    /// appends is turned into a comment. `table` and `columns` must be identifiers of Areo's
    /// own schema (never user input).
    public func copy(into table: String, columns names: [String], connection: PostgresConnection, logger: Logger) async throws {
        precondition(names.count == columns, "\(names.count) column names for rows of \(columns) fields")
        precondition((CollectionOfOne(table) + names).allSatisfy { $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } })
        guard rows > 0 else { return }
        var data = buffer
        data.writeInteger(Int16(-1))  // trailer
        let statement = "\(table)\" (\(names.map { "\"\($0)\"" }.joined(separator: ", "))) FROM STDIN WITH (FORMAT binary) --"
        try await connection.copyFrom(table: statement, logger: logger) { writer in try await writer.write(data) }
    }
}
