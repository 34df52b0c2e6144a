import AreoGeometry
import AreoStore
import AreoTelemetry
import Foundation
import Logging
import PostgresNIO

/// Geometry kernels as far as ingest needs them (clock correlation), and the clock-wrap calendar.
public struct ClockService: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Validates and stores a kernel (replacing one with the same id).
    public func loadKernel(_ data: Data, file: String) async throws -> GeometryKernel {
        let kernel = try GeometryKernel.parse(data, file: file)
        let clock = String(decoding: try JSONEncoder().encode(kernel.clock), as: UTF8.self)
        let body = String(decoding: data, as: UTF8.self)
        try await database.client.query(
            """
            INSERT INTO geometry_kernels (kernel_id, kind, kind_rank, produced, coverage_start_sclk, coverage_end_sclk, clock, kernel, source_file)
            VALUES (\(kernel.kernelID), \(kernel.kind.rawValue), \(kernel.kind.rank), \(kernel.producedDate!),
                    \(kernel.coverageSCLK[0]), \(kernel.coverageSCLK[1]), \(clock)::jsonb, \(body)::jsonb, \(file))
            ON CONFLICT (kernel_id) DO UPDATE SET kind = EXCLUDED.kind, kind_rank = EXCLUDED.kind_rank, produced = EXCLUDED.produced,
                coverage_start_sclk = EXCLUDED.coverage_start_sclk, coverage_end_sclk = EXCLUDED.coverage_end_sclk,
                clock = EXCLUDED.clock, kernel = EXCLUDED.kernel, source_file = EXCLUDED.source_file, loaded_at = now()
            """, logger: logger)
        return kernel
    }

    /// A coarse-clock wrap moment.
    public struct Wrap: Sendable, Codable, Equatable {
        public var coarseSCLK: UInt64
        public var utc: String
        public var t: Double
        /// Planned observations whose span contains it.
        public var observations: [Int]
        public var kernelID: String

        enum CodingKeys: String, CodingKey {
            case utc, t, observations
            case coarseSCLK = "coarse_sclk"
            case kernelID = "kernel_id"
        }
    }

    public struct NoClockCorrelation: Error, CustomStringConvertible {
        public var description: String {
            "no geometry kernel is loaded, so SCLK cannot be related to UTC: load one with `areo geometry load KERNEL.json`"
        }
    }

    /// The UTC moments in [from, to] at which the coarse clock passes a multiple of 65 536 s,
    /// using the clock correlation of the best kernel (highest kind, newest).
    public func wraps(from: Date, to: Date) async throws -> [Wrap] {
        var chosen: (String, [ClockCorrelation.Point])? = nil
        let rows = try await database.client.query(
            "SELECT kernel_id, clock::text FROM geometry_kernels ORDER BY kind_rank DESC, produced DESC LIMIT 1", logger: logger)
        for try await (id, clock) in rows.decode((String, String).self) {
            chosen = (id, try JSONDecoder().decode([ClockCorrelation.Point].self, from: Data(clock.utf8)))
        }
        guard let (kernelID, points) = chosen else { throw NoClockCorrelation() }
        let correlation = ClockCorrelation(points: points)
        var result: [Wrap] = []
        for wrap in correlation.wraps(fromT: GroundTime.t(date: from), toT: GroundTime.t(date: to)) {
            var observations: [Int] = []
            let spanning = try await database.client.query(
                "SELECT observation_id FROM plans WHERE start_sclk <= \(Double(wrap.coarse)) AND end_sclk >= \(Double(wrap.coarse)) ORDER BY 1",
                logger: logger)
            for try await id in spanning.decode(Int.self) { observations.append(id) }
            result.append(Wrap(coarseSCLK: wrap.coarse, utc: GroundTime.iso8601(t: wrap.t), t: wrap.t, observations: observations, kernelID: kernelID))
        }
        return result
    }
}
