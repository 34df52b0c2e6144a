import AreoTelemetry
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Reads reassembled fragments back for processing: the header and the payload, compressed as
/// received, concatenated from the user data of the fragment's packets in generation order.
public struct FragmentRepository: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// A stored fragment.
    public struct StoredFragment: Sendable {
        public var header: FragmentHeader
        /// Exposure start after clock-wrap correction, SCLK seconds.
        public var exposureStart: Double
        public var status: String
        /// 64-byte header + payload, exactly as received.
        public var bytes: [UInt8]
        public var payload: ArraySlice<UInt8> { bytes[FragmentHeader.size...] }
    }

    /// The fragment of an observation's framelet in a band, if it arrived.
    public func fragment(observationID: Int, framelet: Int, band: Band) async throws -> StoredFragment? {
        let rows = try await database.client.query(
            """
            SELECT f.header::text, f.exposure_start, f.status,
                   string_agg(substring(p.bytes FROM \(unescaped: String(SpacePacket.headerSize + 1)) FOR octet_length(p.bytes) - \(unescaped: String(SpacePacket.headerSize + 2))),
                              ''::bytea ORDER BY p.sclk, p.sequence_count)
            FROM fragments f JOIN fragment_packets fp ON fp.fragment_id = f.id JOIN packets p ON p.id = fp.packet_id
            WHERE f.observation_id = \(observationID) AND f.framelet_index = \(framelet) AND f.band = \(Int(band.rawValue))
            GROUP BY f.id
            """, logger: logger)
        for try await (header, start, status, bytes) in rows.decode((String, Double, String, ByteBuffer).self) {
            return StoredFragment(
                header: try JSONDecoder().decode(FragmentHeader.self, from: Data(header.utf8)), exposureStart: start, status: status,
                bytes: Array(bytes.readableBytesView))
        }
        return nil
    }
}
