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

    /// The fragment of an observation's framelet in a band, if it arrived. PostgreSQL only
    /// streams the fragment's packets in generation order; their user data is cut out and joined
    /// here, by the caller's thread (a render's: a compute thread), not by a database backend
    /// that the request path shares.
    public func fragment(observationID: Int, framelet: Int, band: Band) async throws -> StoredFragment? {
        var found: (id: Int, header: String, start: Double, status: String)? = nil
        for try await (id, header, start, status) in try await database.client.query(
            """
            SELECT id, header::text, exposure_start, status FROM fragments
            WHERE observation_id = \(observationID) AND framelet_index = \(framelet) AND band = \(Int(band.rawValue))
            """, logger: logger).decode((Int, String, Double, String).self) {
            found = (id, header, start, status)
        }
        guard let found else { return nil }
        var bytes: [UInt8] = []
        for try await packet in try await database.client.query(
            """
            SELECT p.bytes FROM fragment_packets fp JOIN packets p ON p.id = fp.packet_id
            WHERE fp.fragment_id = \(found.id) ORDER BY p.sclk, p.sequence_count
            """, logger: logger).decode(ByteBuffer.self) {
            // User data: after the primary and secondary headers, before the packet error control.
            let view = packet.readableBytesView
            guard view.count >= SpacePacket.headerSize + 2 else { continue }
            bytes.append(contentsOf: view.dropFirst(SpacePacket.headerSize).dropLast(2))
        }
        return StoredFragment(
            header: try JSONDecoder().decode(FragmentHeader.self, from: Data(found.header.utf8)), exposureStart: found.start, status: found.status,
            bytes: bytes)
    }
}
