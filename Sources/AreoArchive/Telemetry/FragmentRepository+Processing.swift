import AreoProcessing
import AreoTelemetry
import Foundation
import Logging
import PostgresNIO

extension FragmentRepository {
    /// The complete fragments of an observation as processing refers to them, in framelet and band order.
    public func completeFramelets(observationID: Int) async throws -> [FrameletReference] {
        let rows = try await database.client.query(
            """
            SELECT header::text, exposure_start FROM fragments
            WHERE observation_id = \(observationID) AND status = 'complete' ORDER BY framelet_index, band
            """, logger: logger)
        var result: [FrameletReference] = []
        let decoder = JSONDecoder()
        for try await (header, start) in rows.decode((String, Double).self) {
            result.append(FrameletReference(header: try decoder.decode(FragmentHeader.self, from: Data(header.utf8)), exposureStart: start))
        }
        return result
    }
}
