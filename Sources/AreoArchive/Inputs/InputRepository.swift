import AreoGeometry
import AreoRadiometry
import AreoTelemetry
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The processing inputs other than telemetry — instrument descriptions and calibration sets —
/// and which geometry kernel and calibration set apply to an observation (ICD §7, §9).
public struct InputRepository: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Validates and stores `instrument.json`, identified by its name and the SHA-256 of its
    /// canonical form (sorted keys). The same description again changes nothing; another
    /// description under a name already held is refused (``InputConflict``) unless `replace`,
    /// which stores it as a new version (the newest applies; footprints and products follow).
    public func loadInstrument(_ data: Data, file: String, replace: Bool = false) async throws -> InstrumentDescription {
        let instrument = try InstrumentDescription.parse(data, file: file)
        let json = String(decoding: try Self.canonical(instrument), as: UTF8.self)
        let digest = ContentIdentity.hex(SHA256.hash(data: Data(json.utf8)))
        let logger = self.logger
        try await database.client.inTransaction(logger: logger) { connection in
            try await connection.lockForReplacing("instrument:\(instrument.name)", logger: logger)
            var stored: String??
            for try await text in try await connection.query(
                "SELECT description::text FROM instruments WHERE name = \(instrument.name) ORDER BY id DESC LIMIT 1", logger: logger
            ).decode(String.self) {
                let held = try JSONDecoder().decode(InstrumentDescription.self, from: Data(text.utf8))
                stored = .some(ContentIdentity.hex(SHA256.hash(data: try Self.canonical(held))))
            }
            guard try ContentIdentity.mustStore(kind: "instrument", id: instrument.name, stored: stored, loaded: digest, replace: replace) else { return }
            try await connection.query(
                """
                INSERT INTO instruments (name, description, source_file) VALUES (\(instrument.name), \(json)::jsonb, \(file))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        return instrument
    }

    /// The description as its digest is taken: JSON with sorted keys.
    static func canonical(_ instrument: InstrumentDescription) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(instrument)
    }

    /// The id of the newest stored instrument description (0 when none).
    public func latestInstrumentID() async throws -> Int {
        for try await id in try await database.client.query("SELECT coalesce(max(id), 0) FROM instruments", logger: logger).decode(Int.self) {
            return id
        }
        return 0
    }

    /// Validates and stores a calibration directory with the SHA-256 of its description and
    /// arrays. The same id with the same content again changes nothing; with other content it
    /// is refused (``InputConflict``) unless `replace`, which stores it as a new input.
    public func loadCalibration(directory: URL, replace: Bool = false) async throws -> CalibrationSet {
        let set = try CalibrationSet.load(directory: directory)
        let d = set.description
        let json = String(decoding: try JSONEncoder().encode(d), as: UTF8.self)
        // The content: the description file, then each band's arrays in a fixed order.
        var hasher = SHA256()
        hasher.update(data: try Data(contentsOf: directory.appendingPathComponent("calibration.json")))
        for (_, files) in d.bands.sorted(by: { $0.key < $1.key }) {
            for (_, file) in files.arrayFiles { hasher.update(data: try Data(contentsOf: directory.appendingPathComponent(file))) }
        }
        let digest = ContentIdentity.hex(hasher.finalize())
        let logger = self.logger
        try await database.client.inTransaction(logger: logger) { connection in
            try await connection.lockForReplacing("calibration_set:\(d.calibrationID)", logger: logger)
            var stored: String??
            for try await value in try await connection.query(
                "SELECT content_sha256 FROM calibration_sets WHERE calibration_id = \(d.calibrationID)", logger: logger
            ).decode(String?.self) { stored = .some(value) }
            guard try ContentIdentity.mustStore(kind: "calibration set", id: d.calibrationID, stored: stored, loaded: digest, replace: replace) else { return }
            try await connection.query("DELETE FROM calibration_sets WHERE calibration_id = \(d.calibrationID)", logger: logger)
            try await connection.query(
                """
                INSERT INTO calibration_sets (calibration_id, produced, applies_from_sclk, detector_rows, detector_cols, description, source_dir, content_sha256)
                VALUES (\(d.calibrationID), \(GroundTime.parse(d.produced)!), \(d.appliesFromSCLK), \(d.detector.rows), \(d.detector.cols),
                        \(json)::jsonb, \(directory.path), \(digest))
                """, logger: logger)
            for (band, files) in d.bands {
                guard let code = Band(name: band) else { continue }
                for (kind, file) in files.arrayFiles {
                    let bytes = try Data(contentsOf: directory.appendingPathComponent(file))
                    try await connection.query(
                        """
                        INSERT INTO calibration_arrays (calibration_id, band, kind, bytes)
                        VALUES (\(d.calibrationID), \(Int(code.rawValue)), \(kind), \(ByteBuffer(bytes: bytes)))
                        """, logger: logger)
                }
            }
        }
        return set
    }

    /// What applies to one observation.
    public struct Applicable: Sendable, Codable, Equatable {
        public var observationID: Int
        public var startSCLK: Double
        public var endSCLK: Double
        public var kernelID: String?
        public var calibrationID: String?

        enum CodingKeys: String, CodingKey {
            case observationID = "observation_id"
            case startSCLK = "start_sclk"
            case endSCLK = "end_sclk"
            case kernelID = "kernel_id"
            case calibrationID = "calibration_id"
        }
    }

    /// The applicable kernel (the highest kind whose coverage contains the whole observation,
    /// ties to the newest produced — a refined kernel only while it was derived from the best
    /// unrefined kernel there is, ICD §12) and calibration set (the newest produced that applies from
    /// the observation's start or earlier). The observation's span is its plan's, or, unplanned,
    /// that of the fragments that arrived. `nil` when the observation is unknown.
    public func applicable(observationID: Int) async throws -> Applicable? {
        try await applicable(observationIDs: [observationID])[observationID]
    }

    /// ``applicable(observationID:)`` for several observations in one query (the rule is written
    /// once, here); unknown observations are absent from the result.
    public func applicable(observationIDs: [Int]) async throws -> [Int: Applicable] {
        let rows = try await database.client.query(
            """
            WITH ids AS (SELECT DISTINCT unnest(\(observationIDs)::bigint[]) AS id),
            spans AS (
                SELECT i.id, coalesce(p.start_sclk, f.start) AS start, coalesce(p.end_sclk, f.stop) AS stop
                FROM ids i LEFT JOIN plans p ON p.observation_id = i.id
                LEFT JOIN LATERAL (
                    SELECT min(exposure_start) AS start,
                           max(exposure_start + (header->>'exposureDurationMicroseconds')::float8 / 1e6) AS stop
                    FROM fragments WHERE observation_id = i.id AND p.observation_id IS NULL) f ON true)
            SELECT s.id, s.start, s.stop, k.kernel_id, c.calibration_id FROM spans s
            LEFT JOIN LATERAL (
                SELECT kernel_id FROM geometry_kernels WHERE coverage_start_sclk <= s.start AND coverage_end_sclk >= s.stop AND kind <> 'refined'
                ORDER BY kind_rank DESC, produced DESC LIMIT 1) u ON true
            LEFT JOIN LATERAL (
                SELECT kernel_id FROM geometry_kernels WHERE coverage_start_sclk <= s.start AND coverage_end_sclk >= s.stop
                  AND (kind <> 'refined' OR derived_from_kernel = u.kernel_id)
                ORDER BY kind_rank DESC, produced DESC LIMIT 1) k ON true
            LEFT JOIN LATERAL (
                SELECT calibration_id FROM calibration_sets WHERE applies_from_sclk <= s.start
                ORDER BY produced DESC LIMIT 1) c ON true
            WHERE s.start IS NOT NULL AND s.stop IS NOT NULL
            """, logger: logger)
        var result: [Int: Applicable] = [:]
        for try await (id, start, end, kernel, calibration) in rows.decode((Int, Double, Double, String?, String?).self) {
            result[id] = Applicable(observationID: id, startSCLK: start, endSCLK: end, kernelID: kernel, calibrationID: calibration)
        }
        return result
    }
}
