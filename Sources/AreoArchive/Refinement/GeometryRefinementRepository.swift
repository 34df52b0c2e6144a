import AreoGeometry
import AreoProcessing
import AreoTelemetry
import Foundation
import Logging
import PostgresNIO

/// Every geometry refinement tried (ICD §12), accepted or refused, with its inputs, correction,
/// uncertainty and residuals: the one writer of `geometry_refinements`. The refined kernels
/// themselves are kernels, stored through the one load path.
public struct GeometryRefinementRepository: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// What started a refinement.
    public enum Trigger: String, Sendable, Codable { case automatic, request }

    /// One refinement.
    public struct Record: Sendable, Codable, Equatable {
        public var id: Int
        public var observationID: Int
        public var baseKernelID: String
        public var baseKernelKind: String
        public var baseKernelSHA256: String
        /// `map:ID@SHA16` per reference map, `observation:ID@KERNEL` per control observation.
        public var controls: [String]
        public var trigger: Trigger
        public var accepted: Bool
        public var reason: String?
        public var refinedKernelID: String?
        /// Ground time of the observation's middle (what the timing report fits against).
        public var observationMidT: Double
        public var result: RefinementResult
        public var refinedAt: Date

        public init(
            id: Int, observationID: Int, baseKernelID: String, baseKernelKind: String, baseKernelSHA256: String, controls: [String], trigger: Trigger,
            accepted: Bool, reason: String?, refinedKernelID: String?, observationMidT: Double, result: RefinementResult, refinedAt: Date
        ) {
            (self.id, self.observationID, self.baseKernelID, self.baseKernelKind, self.baseKernelSHA256) = (id, observationID, baseKernelID, baseKernelKind, baseKernelSHA256)
            (self.controls, self.trigger, self.accepted, self.reason, self.refinedKernelID) = (controls, trigger, accepted, reason, refinedKernelID)
            (self.observationMidT, self.result, self.refinedAt) = (observationMidT, result, refinedAt)
        }

        enum CodingKeys: String, CodingKey {
            case id, controls, trigger, accepted, reason, result
            case observationID = "observation_id", baseKernelID = "base_kernel_id", baseKernelKind = "base_kernel_kind"
            case baseKernelSHA256 = "base_kernel_sha256", refinedKernelID = "refined_kernel_id", observationMidT = "observation_mid_t"
            case refinedAt = "refined_at"
        }
    }

    /// The controls as one key (sorted): what "already tried with these inputs" compares.
    public static func controlsKey(_ controls: [String]) -> String { controls.sorted().joined(separator: ",") }

    /// A fresh record id (the refined kernel is named after it before either is stored).
    public func nextID() async throws -> Int {
        for try await id in try await database.client.query("SELECT nextval('geometry_refinements_id_seq')", logger: logger).decode(Int.self) { return id }
        throw StoreError(.queryFailed, "no id from geometry_refinements_id_seq")
    }

    /// Stores `record` under its id.
    public func record(_ record: Record) async throws {
        let result = String(decoding: try JSONEncoder().encode(record.result), as: UTF8.self)
        try await database.client.query(
            """
            INSERT INTO geometry_refinements (id, observation_id, base_kernel_id, base_kernel_kind, base_kernel_sha256, controls, controls_key,
                trigger, accepted, reason, refined_kernel_id, observation_mid_t, time_offset_s, time_offset_sigma_s, ties, residual_rms_px, result)
            VALUES (\(record.id), \(record.observationID), \(record.baseKernelID), \(record.baseKernelKind), \(record.baseKernelSHA256),
                    \(record.controls), \(Self.controlsKey(record.controls)), \(record.trigger.rawValue), \(record.accepted), \(record.reason),
                    \(record.refinedKernelID), \(record.observationMidT), \(record.result.correction?.timeOffsetSeconds),
                    \(record.result.timeOffsetSigmaSeconds), \(record.result.ties), \(record.result.residualRMSAfterPixels), \(result)::jsonb)
            """, logger: logger)
    }

    /// Whether a refinement of the observation from this base kernel with these controls was tried.
    public func tried(observationID: Int, baseKernelSHA256: String, controls: [String]) async throws -> Bool {
        for try await _ in try await database.client.query(
            """
            SELECT 1 FROM geometry_refinements WHERE observation_id = \(observationID) AND base_kernel_sha256 = \(baseKernelSHA256)
              AND controls_key = \(Self.controlsKey(controls)) LIMIT 1
            """, logger: logger).decode(Int.self) { return true }
        return false
    }

    /// Observations to refine automatically, after `after` in id order, at most `limit`: complete,
    /// with unrefined geometry applying that is predicted (or refined before: a newer unrefined
    /// kernel arrived), among those touched since `since` — their catalogue row changed (arrived,
    /// completed, a kernel applies) or a reference map meeting them arrived. The cost is that of
    /// what changed, through the indexes on `changed_at` and the boxes, not of the archive.
    public func candidates(touchedSince since: Date, after: Int, limit: Int) async throws -> [Int] {
        var ids: [Int] = []
        for try await id in try await database.client.query(
            """
            WITH touched AS (
                SELECT observation_id FROM observation_catalog WHERE changed_at > \(since)
                UNION
                SELECT c.observation_id FROM reference_maps m JOIN observation_catalog c
                  ON c.bbox && box(point(m.west, m.south), point(m.east, m.north)) WHERE m.loaded_at > \(since))
            SELECT c.observation_id FROM touched t JOIN observation_catalog c ON c.observation_id = t.observation_id
            JOIN geometry_kernels k ON k.kernel_id = c.kernel_id
            WHERE c.observation_id > \(after) AND c.status = 'complete' AND k.kind <> 'refined'
              AND (k.kind = 'predicted' OR EXISTS (SELECT 1 FROM geometry_refinements r WHERE r.observation_id = c.observation_id AND r.accepted))
            ORDER BY c.observation_id LIMIT \(max(1, limit))
            """, logger: logger).decode(Int.self) { ids.append(id) }
        return ids
    }

    /// The database's clock now, and when the last automatic refinement was tried (where a
    /// scheduler starting up resumes: what changed since then).
    public func clock() async throws -> (now: Date, lastAutomatic: Date?) {
        for try await (now, last) in try await database.client.query(
            "SELECT now(), (SELECT max(refined_at) FROM geometry_refinements WHERE trigger = 'automatic')", logger: logger
        ).decode((Date, Date?).self) { return (now, last) }
        throw StoreError(.queryFailed, "no time from the database")
    }

    /// The newest refinements first, at most `limit`, of one observation or of those `visible` admits.
    public func list(observationID: Int? = nil, limit: Int = 100) async throws -> [Record] {
        let filter: SQLFragment = observationID.map { "WHERE observation_id = \($0)" } ?? ""
        return try await records("\(filter) ORDER BY refined_at DESC, id DESC LIMIT \(max(1, min(limit, 10_000)))")
    }

    /// Accepted refinements from predicted kernels between two ground times, oldest first
    /// (what the timing report fits).
    public func predictedTiming(fromT: Double, toT: Double) async throws -> [Record] {
        try await records("""
            WHERE accepted AND base_kernel_kind = 'predicted' AND observation_mid_t BETWEEN \(fromT) AND \(toT)
            ORDER BY observation_mid_t LIMIT 100000
            """)
    }

    private func records(_ tail: SQLFragment) async throws -> [Record] {
        let query: SQLFragment = """
            SELECT id, observation_id, base_kernel_id, base_kernel_kind, base_kernel_sha256, controls, trigger, accepted, reason,
                   refined_kernel_id, observation_mid_t, result::text, refined_at FROM geometry_refinements \(tail)
            """
        var records: [Record] = []
        let decoder = JSONDecoder()
        for try await (id, observation, base, kind, sha, controls, trigger, accepted, reason, refined, mid, result, at) in try await database.client.query(
            query.query, logger: logger
        ).decode((Int, Int, String, String, String, [String], String, Bool, String?, String?, Double, String, Date).self) {
            records.append(Record(
                id: id, observationID: observation, baseKernelID: base, baseKernelKind: kind, baseKernelSHA256: sha, controls: controls,
                trigger: Trigger(rawValue: trigger) ?? .request, accepted: accepted, reason: reason, refinedKernelID: refined, observationMidT: mid,
                result: try decoder.decode(RefinementResult.self, from: Data(result.utf8)), refinedAt: at))
        }
        return records
    }
}

/// The timing errors of predicted kernels over time (the MOC loop): each refined observation's
/// time offset, and a weighted straight line through them per predicted kernel, so operations
/// can offset future commands.
public struct TimingReport: Sendable, Codable, Equatable {
    public struct Point: Sendable, Codable, Equatable {
        public var observationID: Int
        public var utc: String
        public var timeOffsetSeconds: Double
        public var sigmaSeconds: Double
        enum CodingKeys: String, CodingKey { case observationID = "observation_id", utc, timeOffsetSeconds = "time_offset_s", sigmaSeconds = "sigma_s" }
    }
    public struct Fit: Sendable, Codable, Equatable {
        public var kernelID: String
        public var points: [Point]
        /// Offset at `epochUTC` and its drift; nil drift from a single point.
        public var offsetSeconds: Double
        public var offsetSigmaSeconds: Double
        public var driftSecondsPerDay: Double?
        public var epochUTC: String
        enum CodingKeys: String, CodingKey {
            case points, kernelID = "kernel_id", offsetSeconds = "offset_s", offsetSigmaSeconds = "offset_sigma_s"
            case driftSecondsPerDay = "drift_s_per_day", epochUTC = "epoch_utc"
        }
    }
    public var kernels: [Fit]

    /// The report of `records` (accepted refinements from predicted kernels), the newest of each observation.
    public init(_ records: [GeometryRefinementRepository.Record]) {
        var newest: [Int: GeometryRefinementRepository.Record] = [:]
        for r in records where r.accepted && newest[r.observationID].map({ $0.refinedAt < r.refinedAt }) ?? true { newest[r.observationID] = r }
        let byKernel = Dictionary(grouping: newest.values, by: \.baseKernelID)
        kernels = byKernel.keys.sorted().map { kernel in
            let rows = byKernel[kernel]!.sorted { $0.observationMidT < $1.observationMidT }
            let points = rows.map { r in
                Point(observationID: r.observationID, utc: GroundTime.iso8601(t: r.observationMidT),
                      timeOffsetSeconds: r.result.correction?.timeOffsetSeconds ?? 0, sigmaSeconds: max(1e-6, r.result.timeOffsetSigmaSeconds ?? 1))
            }
            // Weighted least squares of offset = a + b·(t − t̄).
            let ts = rows.map(\.observationMidT)
            let w = points.map { 1 / ($0.sigmaSeconds * $0.sigmaSeconds) }
            let sw = w.reduce(0, +)
            let epoch = zip(ts, w).map { $0 * $1 }.reduce(0, +) / sw
            let mean = zip(points, w).map { $0.timeOffsetSeconds * $1 }.reduce(0, +) / sw
            var drift: Double? = nil
            let stt = zip(ts, w).map { ($0 - epoch) * ($0 - epoch) * $1 }.reduce(0, +)
            if points.count > 1, stt > 0 {
                let sty = zip(zip(ts, points), w).map { ($0.0 - epoch) * $0.1.timeOffsetSeconds * $1 }.reduce(0, +)
                drift = sty / stt * 86_400
            }
            return Fit(kernelID: kernel, points: points, offsetSeconds: mean, offsetSigmaSeconds: (1 / sw).squareRoot(),
                       driftSecondsPerDay: drift, epochUTC: GroundTime.iso8601(t: epoch))
        }
    }
}
