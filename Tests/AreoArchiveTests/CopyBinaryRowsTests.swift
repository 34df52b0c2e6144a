import AreoArchive
import AreoTestSupport
import Foundation
import PostgresNIO
import Testing

/// Binary COPY rows read back as the values written, for every field type bulk ingest uses.
@Suite struct CopyBinaryRowsTests {
    @Test func everyFieldTypeRoundTrips() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await database.client.query(
                "CREATE TABLE copied (a int8, b int4, c int2, d float8, e boolean, f bytea)", logger: logger)
            let values: [(Int64, Int32, Int16, Double, Bool, [UInt8])] = [
                (Int64.max, Int32.min, -7, 720_000_288.123_456_789, true, [0, 0x5C, 0x0A, 0x09, 0xFF]),
                (-1, 0, Int16.max, -0.0, false, []),
                (1 << 40, 42, 0, .pi, true, Array(repeating: 0xAB, count: 1500)),
            ]
            var rows = CopyBinaryRows(columns: 6)
            for (a, b, c, d, e, f) in values {
                rows.startRow()
                rows.append(a); rows.append(b); rows.append(c); rows.append(d); rows.append(e); rows.append(bytes: f)
            }
            try await database.client.withConnection { connection in
                try await rows.copy(into: "copied", columns: ["a", "b", "c", "d", "e", "f"], connection: connection, logger: logger)
            }
            var read: [(Int, Int, Int, Double, Bool, [UInt8])] = []
            for try await (a, b, c, d, e, f) in try await database.client.query(
                "SELECT a, b::int8, c::int8, d, e, f FROM copied ORDER BY b", logger: logger
            ).decode((Int, Int, Int, Double, Bool, ByteBuffer).self) {
                read.append((a, b, c, d, e, Array(f.readableBytesView)))
            }
            let expected = values.sorted { $0.1 < $1.1 }
            #expect(read.count == expected.count)
            for (got, want) in zip(read, expected) {
                #expect(got.0 == Int(want.0) && got.1 == Int(want.1) && got.2 == Int(want.2))
                #expect(got.3.bitPattern == want.3.bitPattern && got.4 == want.4 && got.5 == want.5)
            }
        }
    }

    @Test func aRowOfTheWrongShapeIsRefusedByTheServer() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await database.client.query("CREATE TABLE copied (a int8, b int8)", logger: logger)
            var rows = CopyBinaryRows(columns: 2)
            rows.startRow()
            rows.append(Int64(1)); rows.append(Int32(2))  // an int4 where the table has int8
            await #expect(throws: PSQLError.self) {
                try await database.client.withConnection { connection in
                    try await rows.copy(into: "copied", columns: ["a", "b"], connection: connection, logger: logger)
                }
            }
            let count = try await database.client.query("SELECT count(*)::int8 FROM copied", logger: logger).decode(Int.self)
            var n = -1
            for try await value in count { n = value }
            #expect(n == 0)
        }
    }
}
