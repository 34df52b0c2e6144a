import AreoGeometry
import AreoTelemetry
import Crypto
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

    /// Validates and stores a kernel with the SHA-256 of its bytes. The same id with the same
    /// content again changes nothing; with other content it is refused (``InputConflict``)
    /// unless `replace`, which stores it as a new input.
    public func loadKernel(_ data: Data, file: String, replace: Bool = false) async throws -> GeometryKernel {
        let kernel = try GeometryKernel.parse(data, file: file)
        let digest = ContentIdentity.hex(SHA256.hash(data: data))
        let clock = String(decoding: try JSONEncoder().encode(kernel.clock), as: UTF8.self)
        let body = String(decoding: data, as: UTF8.self)
        let logger = self.logger
        try await database.client.inTransaction(logger: logger) { connection in
            try await connection.lockForReplacing("geometry_kernel:\(kernel.kernelID)", logger: logger)
            var stored: String??
            for try await value in try await connection.query(
                "SELECT content_sha256 FROM geometry_kernels WHERE kernel_id = \(kernel.kernelID)", logger: logger
            ).decode(String?.self) { stored = .some(value) }
            guard try ContentIdentity.mustStore(kind: "geometry kernel", id: kernel.kernelID, stored: stored, loaded: digest, replace: replace) else { return }
            try await connection.query(
                """
                INSERT INTO geometry_kernels (kernel_id, kind, kind_rank, produced, coverage_start_sclk, coverage_end_sclk, clock, kernel, source_file,
                                              content_sha256, derived_from_kernel)
                VALUES (\(kernel.kernelID), \(kernel.kind.rawValue), \(kernel.kind.rank), \(kernel.producedDate!),
                        \(kernel.coverageSCLK[0]), \(kernel.coverageSCLK[1]), \(clock)::jsonb, \(body)::jsonb, \(file), \(digest), \(kernel.derivedFrom?.kernelID))
                ON CONFLICT (kernel_id) DO UPDATE SET kind = EXCLUDED.kind, kind_rank = EXCLUDED.kind_rank, produced = EXCLUDED.produced,
                    coverage_start_sclk = EXCLUDED.coverage_start_sclk, coverage_end_sclk = EXCLUDED.coverage_end_sclk,
                    clock = EXCLUDED.clock, kernel = EXCLUDED.kernel, source_file = EXCLUDED.source_file,
                    content_sha256 = EXCLUDED.content_sha256, derived_from_kernel = EXCLUDED.derived_from_kernel, loaded_at = now()
                """, logger: logger)
        }
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

    /// The longest span a wrap calendar covers (about 530 wraps): longer asks are refused by
    /// the callers, so one request's work stays bounded.
    public static let maximumWrapSpan: TimeInterval = 400 * 86_400

    /// The UTC moments in [from, to] at which the coarse clock passes a multiple of 65 536 s,
    /// using the clock correlation of the best kernel (highest kind, newest), each with the
    /// planned observations it falls in — only those the public may see when `publicOnly`.
    /// At most ``maximumWrapSpan`` of the span is covered.
    public func wraps(from: Date, to: Date, publicOnly: Bool) async throws -> [Wrap] {
        var chosen: (String, [ClockCorrelation.Point])? = nil
        let rows = try await database.client.query(
            "SELECT kernel_id, clock::text FROM geometry_kernels ORDER BY kind_rank DESC, produced DESC LIMIT 1", logger: logger)
        for try await (id, clock) in rows.decode((String, String).self) {
            chosen = (id, try JSONDecoder().decode([ClockCorrelation.Point].self, from: Data(clock.utf8)))
        }
        guard let (kernelID, points) = chosen, !points.isEmpty else { throw NoClockCorrelation() }
        let correlation = ClockCorrelation(points: points)
        let end = min(to, from.addingTimeInterval(Self.maximumWrapSpan))
        let moments = correlation.wraps(fromT: GroundTime.t(date: from), toT: GroundTime.t(date: end), limit: 1_000)
        guard let low = moments.first?.coarse, let high = moments.last?.coarse else { return [] }
        // One query for every plan that can contain one of the moments.
        var plans: [(id: Int, start: Double, end: Double)] = []
        let now = Date()
        for try await (id, start, stop, embargo) in try await database.client.query(
            "SELECT observation_id, start_sclk, end_sclk, embargo_until FROM plans WHERE start_sclk <= \(Double(high)) AND end_sclk >= \(Double(low)) ORDER BY 1",
            logger: logger
        ).decode((Int, Double, Double, Date?).self) where !publicOnly || Embargo.isPublic(planned: true, embargoUntil: embargo, at: now) {
            plans.append((id, start, stop))
        }
        return moments.map { wrap in
            let s = Double(wrap.coarse)
            return Wrap(coarseSCLK: wrap.coarse, utc: GroundTime.iso8601(t: wrap.t), t: wrap.t,
                        observations: plans.filter { $0.start <= s && $0.end >= s }.map(\.id), kernelID: kernelID)
        }
    }
}
