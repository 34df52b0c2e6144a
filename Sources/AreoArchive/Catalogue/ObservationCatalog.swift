import AreoGeometry
import AreoProcessing
import AreoRadiometry
import AreoTelemetry
import Foundation
import Logging
import PostgresNIO

/// The observation catalogue: for every observation (planned or arrived) what applies to it now
/// (geometry kernel, calibration set, data), its footprint, times, status and embargo.
///
/// ``refresh(_:)`` rewrites the rows an input can affect after every load and bumps the catalogue generation in the same
/// transaction; it reports which observations' applicable inputs changed, so their products can
/// be regenerated.
public struct ObservationCatalog: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// One observation as search and the server see it.
    public struct Entry: Sendable, Codable, Equatable {
        public var observationID: Int
        public var planned: Bool
        public var status: String
        public var target: String?
        public var bands: [String]
        public var embargoUntil: Date?
        public var startSCLK: Double
        public var endSCLK: Double
        public var startUTC: Date?
        public var endUTC: Date?
        public var firstERT: Date?
        public var lastERT: Date?
        public var kernelID: String?
        public var calibrationID: String?
        public var dataStamp: String
        public var footprint: GeographicFootprint?
        /// The content digests of the applicable kernel and calibration set (`kernel/calibration`,
        /// 16 hex digits each), then of the shape models that meet the observation
        /// (`/dem+dem…`): a same-id replacement or a new model changes it, and so every product key.
        public var inputsDigest: String = ""
        /// The shape models that meet the observation (ICD §11; which applies is decided point by point).
        public var shapeModelIDs: [String] = []

        /// The inputs a product of it is made with now (nil until a kernel and a calibration set apply).
        public var provenance: ProductProvenance? {
            guard let kernelID, let calibrationID else { return nil }
            return ProductProvenance(kernelID: kernelID, calibrationID: calibrationID, shapeModels: shapeModelIDs)
        }

        /// Whether the public may see it now (``Embargo``: planned, and no embargo or one that has passed).
        public func isPublic(at now: Date = Date()) -> Bool { Embargo.isPublic(planned: planned, embargoUntil: embargoUntil, at: now) }
    }

    /// What a refresh changed.
    public struct RefreshReport: Sendable, Codable, Equatable {
        /// Observations whose applicable kernel or calibration set changed (regenerate their products).
        public var inputsChanged: [Int]
        /// Observations whose data (complete fragments, instrument) changed.
        public var dataChanged: [Int]
        public var generation: Int64
        /// How many observations' rows were recomputed (the refresh's scope, as found in the archive).
        public var recomputed = 0
    }

    /// The current catalogue generation.
    public func generation() async throws -> Int64 {
        for try await value in try await database.client.query("SELECT generation FROM catalog_generation", logger: logger).decode(Int64.self) {
            return value
        }
        return 0
    }

    /// The channel every refresh notifies (its payload: the new generation).
    public static let notificationChannel = "areo_catalog"
    /// The advisory lock that serialises refreshes across every Areo process.
    static let refreshLock: Int64 = 0x4152_454F_4341_5431  // "AREOCAT1"

    /// Which observations a refresh recomputes: those an input can affect (what ``ArchiveLoads``
    /// passes), or all of them (after a migration, or an instrument, whose camera shapes every footprint).
    public enum Scope: Sendable, Equatable {
        case all
        case observations(Set<Int>)

        /// Nothing to recompute (the generation is still bumped, and every process notified).
        public static let none = Scope.observations([])
    }

    /// Recomputes the rows of the observations in `scope`; see the type's documentation.
    /// Refreshes are serialised across processes (a PostgreSQL advisory lock held from the
    /// first read to the commit) and each reads the inputs as committed when it starts, so once
    /// every load has refreshed the observations its input can affect, the catalogue is that of
    /// the same loads made one after another — never older rows under a newer generation. The
    /// commit notifies ``notificationChannel``. Its cost is that of the observations in scope,
    /// not of the archive.
    @discardableResult
    public func refresh(_ scope: Scope = .all) async throws -> RefreshReport {
        let logger = self.logger
        // One refresh of this process at a time waits for the lock: a waiter holds a pooled
        // connection, and the holder's reads need others (without this, concurrent loads would
        // hold every connection of the pool while the holder waits for one).
        await Self.gate.enter()
        do {
            let report = try await refreshHoldingLocks(scope, logger: logger)
            await Self.gate.leave()
            return report
        } catch {
            await Self.gate.leave()
            throw error
        }
    }

    /// The refresh under the cross-process advisory lock (taken on a connection of its own).
    private func refreshHoldingLocks(_ scope: Scope, logger: Logger) async throws -> RefreshReport {
        try await database.client.withConnection { lockHolder in
            try await lockHolder.query("SELECT pg_advisory_lock(\(Self.refreshLock))", logger: logger)
            do {
                let report = try await refreshHoldingLock(scope)
                try await lockHolder.query("SELECT pg_advisory_unlock(\(Self.refreshLock))", logger: logger)
                return report
            } catch {
                _ = try? await lockHolder.query("SELECT pg_advisory_unlock(\(Self.refreshLock))", logger: logger)
                throw error
            }
        }
    }

    /// This process's queue of refreshes in front of the cross-process lock.
    static let gate = RefreshGate()

    /// Calls `changed` with the new generation after every refresh committed by any process,
    /// until the connection is lost (then it throws) or the task is cancelled.
    public func watch(_ changed: @Sendable (Int64) async -> Void) async throws {
        let logger = self.logger
        try await database.client.withConnection { connection in
            try await connection.listen(on: Self.notificationChannel) { notifications in
                logger.debug("listening for catalogue changes")
                for try await notification in notifications {
                    await changed(Int64(notification.payload) ?? 0)
                }
            }
        }
    }

    /// Observations recomputed per round of queries (bounds memory on an `.all` refresh).
    static let refreshChunk = 1_000

    private func refreshHoldingLock(_ scope: Scope) async throws -> RefreshReport {
        let client = database.client
        let ids: [Int]
        switch scope {
        case .observations(let chosen): ids = chosen.sorted()
        case .all:
            var all: [Int] = []
            for try await id in try await client.query(
                "SELECT observation_id FROM plans UNION SELECT DISTINCT observation_id FROM fragments ORDER BY 1", logger: logger
            ).decode(Int.self) { all.append(id) }
            ids = all
        }
        var instrumentID = 0
        var instrument: InstrumentDescription? = nil
        for try await (id, text) in try await client.query(
            "SELECT id, description::text FROM instruments ORDER BY id DESC LIMIT 1", logger: logger).decode((Int, String).self) {
            instrumentID = id
            instrument = try JSONDecoder().decode(InstrumentDescription.self, from: Data(text.utf8))
        }
        var rows: [Entry] = []
        var report = RefreshReport(inputsChanged: [], dataChanged: [], generation: 0)
        var kernels: [String: Trajectory] = [:]
        for start in stride(from: 0, to: ids.count, by: Self.refreshChunk) {
            let chunk = Array(ids[start..<min(ids.count, start + Self.refreshChunk)])
            try await recompute(chunk, instrumentID: instrumentID, instrument: instrument, kernels: &kernels, into: &rows, report: &report)
        }
        let logger = self.logger
        report.generation = try await client.inTransaction(logger: logger) { connection in
            for entry in rows { try await Self.upsert(entry, connection: connection, logger: logger) }
            var generation: Int64 = 0
            for try await value in try await connection.query(
                "UPDATE catalog_generation SET generation = generation + 1 RETURNING generation", logger: logger).decode(Int64.self) {
                generation = value
            }
            // Delivered to every listening process when (and only if) this transaction commits.
            try await connection.query("SELECT pg_notify(\(Self.notificationChannel), \(String(generation)))", logger: logger)
            return generation
        }
        report.recomputed = rows.count
        logger.info("catalogue refreshed", metadata: [
            "observations": "\(rows.count)", "inputs_changed": "\(report.inputsChanged.count)", "generation": "\(report.generation)",
        ])
        return report
    }

    /// The entries of `ids` as the archive holds them now, in a fixed number of queries.
    private func recompute(
        _ ids: [Int], instrumentID: Int, instrument: InstrumentDescription?, kernels: inout [String: Trajectory],
        into rows: inout [Entry], report: inout RefreshReport
    ) async throws {
        let client = database.client
        let decoder = JSONDecoder()
        var previous: [Int: (kernel: String?, calibration: String?, stamp: String, footprint: GeographicFootprint?, digest: String)] = [:]
        for try await (id, kernel, calibration, stamp, footprint, digest) in try await client.query(
            """
            SELECT observation_id, kernel_id, calibration_id, data_stamp, footprint::text, inputs_digest
            FROM observation_catalog WHERE observation_id = ANY(\(ids))
            """, logger: logger
        ).decode((Int, String?, String?, String, String?, String).self) {
            previous[id] = (kernel, calibration, stamp, try footprint.map { try decoder.decode(GeographicFootprint.self, from: Data($0.utf8)) }, digest)
        }
        let applicable = try await InputRepository(database: database, logger: logger).applicable(observationIDs: ids)
        let kernelIDs = Array(Set(applicable.values.compactMap(\.kernelID)))
        let calibrationIDs = Array(Set(applicable.values.compactMap(\.calibrationID)))
        var kernelDigests: [String: String] = [:], calibrationDigests: [String: String] = [:]
        for try await (id, digest) in try await client.query(
            "SELECT kernel_id, coalesce(content_sha256, '') FROM geometry_kernels WHERE kernel_id = ANY(\(kernelIDs))", logger: logger
        ).decode((String, String).self) {
            kernelDigests[id] = String(digest.prefix(16))
        }
        for try await (id, digest) in try await client.query(
            "SELECT calibration_id, coalesce(content_sha256, '') FROM calibration_sets WHERE calibration_id = ANY(\(calibrationIDs))", logger: logger
        ).decode((String, String).self) {
            calibrationDigests[id] = String(digest.prefix(16))
        }
        var embargoes: [Int: Date?] = [:]
        for try await (id, embargo) in try await client.query(
            "SELECT observation_id, embargo_until FROM plans WHERE observation_id = ANY(\(ids))", logger: logger).decode((Int, Date?).self) {
            embargoes[id] = embargo
        }
        var arrived: [Int: (stamp: String, firstERT: Int64?, lastERT: Int64?)] = [:]
        for try await (id, count, maxID, updated, firstERT, lastERT) in try await client.query(
            """
            SELECT f.observation_id, count(*) FILTER (WHERE f.status = 'complete'), max(f.id),
                   coalesce(floor(extract(epoch FROM max(f.updated_at)) * 1e6)::bigint, 0),
                   min(p.first_ert_us), max(p.first_ert_us)
            FROM fragments f LEFT JOIN packets p ON p.id = f.first_packet_id
            WHERE f.observation_id = ANY(\(ids)) GROUP BY f.observation_id
            """, logger: logger).decode((Int, Int, Int, Int64, Int64?, Int64?).self) {
            arrived[id] = ("f\(count).\(maxID).\(updated)", firstERT, lastERT)
        }
        let comparisons = try await Reports(database: database, logger: logger).comparisons(observationIDs: ids)
        let inputs = InputRepository(database: database, logger: logger)
        let shapeModels = ShapeModelRepository(database: database, logger: logger)
        let heldModels = try await shapeModels.list()
        for id in ids {
            guard let applicable = applicable[id], let comparison = comparisons[id] else { continue }
            let plan = comparison.plan
            let stamp = "\(arrived[id]?.stamp ?? "f0").i\(instrumentID)"
            let arrivedBands = Set(comparison.arrivals.map(\.header.bandCode)).sorted().compactMap { Band(rawValue: $0)?.name }
            var entry = Entry(
                observationID: id, planned: plan != nil, status: comparison.status.rawValue, target: plan?.targetID,
                bands: plan.map { $0.bands.map { $0.band.uppercased() } } ?? arrivedBands,
                embargoUntil: embargoes[id] ?? nil, startSCLK: applicable.startSCLK, endSCLK: applicable.endSCLK,
                firstERT: arrived[id]?.firstERT.map { Date(timeIntervalSince1970: Double($0) / 1e6) },
                lastERT: arrived[id]?.lastERT.map { Date(timeIntervalSince1970: Double($0) / 1e6) },
                kernelID: applicable.kernelID, calibrationID: applicable.calibrationID, dataStamp: stamp)
            entry.inputsDigest = "\(applicable.kernelID.flatMap { kernelDigests[$0] } ?? "")/\(applicable.calibrationID.flatMap { calibrationDigests[$0] } ?? "")"
            let before = previous[id]
            if let kernelID = applicable.kernelID {
                if kernels[kernelID] == nil { kernels[kernelID] = Trajectory(kernel: try await inputs.kernel(kernelID)) }
                let trajectory = kernels[kernelID]!
                entry.startUTC = GroundTime.date(t: trajectory.t(sclk: entry.startSCLK))
                entry.endUTC = GroundTime.date(t: trajectory.t(sclk: entry.endSCLK))
                if heldModels.isEmpty, let before, before.kernel == kernelID, before.digest == entry.inputsDigest, before.stamp == stamp, let kept = before.footprint {
                    entry.footprint = kept
                } else if let instrument {
                    var framelets = comparison.arrivals.filter { $0.status == .complete }
                        .map { FrameletReference(header: $0.header, exposureStart: $0.correctedStart) }
                    if framelets.isEmpty, let plan { framelets = ObservationFootprint.plannedFramelets(plan) }
                    let camera = CameraModel(instrument: instrument)
                    entry.footprint = ObservationFootprint.footprint(of: framelets, trajectory: trajectory, camera: camera)
                    // The shape models meeting the ellipsoid's footprint; the footprint then on the terrain.
                    if let onEllipsoid = entry.footprint {
                        let meeting = shapeModels.meeting(onEllipsoid, among: heldModels)
                        if !meeting.isEmpty {
                            entry.shapeModelIDs = meeting.map(\.demID)
                            entry.inputsDigest += "/" + meeting.map { String($0.sha256.prefix(16)) }.joined(separator: "+")
                            let terrain = Terrain(models: try await shapeModels.models(entry.shapeModelIDs))
                            entry.footprint = ObservationFootprint.footprint(of: framelets, trajectory: trajectory, camera: camera, terrain: terrain) ?? onEllipsoid
                        }
                    }
                }
            }
            // A change of what applies (not the first kernel or calibration: nothing could be made before).
            if let before, before.kernel != nil, before.calibration != nil,
               before.kernel != entry.kernelID || before.calibration != entry.calibrationID || before.digest != entry.inputsDigest {
                report.inputsChanged.append(id)
            }
            if before?.stamp != stamp, before != nil { report.dataChanged.append(id) }
            rows.append(entry)
        }
    }

    /// The observations whose row changed after `since`, counting an embargo that ended since
    /// then as a change (what an incremental export delivers).
    public func changed(since: Date) async throws -> Set<Int> {
        var ids = Set<Int>()
        for try await id in try await database.client.query(
            "SELECT observation_id FROM observation_catalog WHERE changed_at > \(since) OR (embargo_until > \(since) AND embargo_until <= now())",
            logger: logger).decode(Int.self) {
            ids.insert(id)
        }
        return ids
    }

    /// Complete observations with a geometry kernel and a calibration set whose row changed after
    /// `since` (they became processable, or what applies to them changed), by id after `after`,
    /// at most `limit` (indexed by `changed_at`).
    public func processable(touchedSince since: Date, after: Int, limit: Int) async throws -> [Int] {
        var ids: [Int] = []
        for try await id in try await database.client.query(
            """
            SELECT observation_id FROM observation_catalog
            WHERE changed_at > \(since) AND observation_id > \(after) AND status = 'complete'
              AND kernel_id IS NOT NULL AND calibration_id IS NOT NULL
            ORDER BY observation_id LIMIT \(max(1, min(limit, 10_000)))
            """, logger: logger).decode(Int.self) { ids.append(id) }
        return ids
    }

    // MARK: Scopes

    /// The observations a pass can affect: those with a fragment that holds a packet received in it.
    public func scope(pass passID: Int) async throws -> Scope {
        try await observations("""
            SELECT DISTINCT f.observation_id FROM receptions r JOIN fragment_packets fp ON fp.packet_id = r.packet_id
            JOIN fragments f ON f.id = fp.fragment_id WHERE r.pass_id = \(passID)
            """)
    }

    /// The observations a kernel can affect: those whose span its coverage contains, and those it
    /// applies to now (a replacement may shrink its coverage).
    public func scope(kernel: GeometryKernel) async throws -> Scope {
        try await observations("""
            SELECT observation_id FROM observation_catalog
            WHERE (start_sclk >= \(kernel.coverageSCLK[0]) AND end_sclk <= \(kernel.coverageSCLK[1])) OR kernel_id = \(kernel.kernelID)
            """)
    }

    /// The observations a calibration set can affect: those starting where it applies from, and
    /// those it applies to now.
    public func scope(calibration: CalibrationSet) async throws -> Scope {
        let d = calibration.description
        return try await observations("""
            SELECT observation_id FROM observation_catalog
            WHERE start_sclk >= \(d.appliesFromSCLK) OR calibration_id = \(d.calibrationID)
            """)
    }

    /// The observations a shape model can affect: those whose box meets its extent (grown by
    /// ``ShapeModelRepository/meetingMargin``, at its longitudes and shifted by ±360°), and those it met before.
    public func scope(shapeModel model: ShapeModelRepository.Stored) async throws -> Scope {
        let m = ShapeModelRepository.meetingMargin
        return try await meeting(west: model.west - m, east: model.east + m, south: model.south - m, north: model.north + m,
                                 or: "\(model.demID) = ANY(shape_model_ids)")
    }

    /// The observations a reference map can be control for: those whose box meets its extent.
    public func scope(referenceMap map: ReferenceMapRepository.Stored) async throws -> Scope {
        try await meeting(west: map.west, east: map.east, south: map.south, north: map.north, or: "false")
    }

    /// The observations whose box meets the extent (at its longitudes and shifted by ±360°), or that `also` selects.
    private func meeting(west: Double, east: Double, south: Double, north: Double, or also: SQLFragment) async throws -> Scope {
        let boxes: [SQLFragment] = [-360.0, 0, 360].map { shift in
            "bbox && box(point(\(west + shift), \(south)), point(\(east + shift), \(north)))"
        }
        let query: SQLFragment = """
            SELECT observation_id FROM observation_catalog
            WHERE \(also) OR \(SQLFragment.joined(boxes, separator: " OR "))
            """
        return try await observations(query.query)
    }

    private func observations(_ query: PostgresQuery) async throws -> Scope {
        var ids = Set<Int>()
        for try await id in try await database.client.query(query, logger: logger).decode(Int.self) { ids.insert(id) }
        return .observations(ids)
    }

    static func upsert(_ e: Entry, connection: PostgresConnection, logger: Logger) async throws {
        let footprint = try e.footprint.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let box = e.footprint.map { "((\($0.west),\($0.south)),(\($0.east),\($0.north)))" }
        let centre = e.footprint?.centre
        try await connection.query(
            """
            INSERT INTO observation_catalog (observation_id, planned, status, target, bands, embargo_until, start_sclk, end_sclk,
                start_utc, end_utc, first_ert_us, last_ert_us, kernel_id, calibration_id, data_stamp, footprint, bbox,
                centre_latitude, centre_longitude, inputs_digest, shape_model_ids, changed_at)
            VALUES (\(e.observationID), \(e.planned), \(e.status), \(e.target), \(e.bands), \(e.embargoUntil), \(e.startSCLK), \(e.endSCLK),
                \(e.startUTC), \(e.endUTC), \(e.firstERT.map { Int64($0.timeIntervalSince1970 * 1e6) }), \(e.lastERT.map { Int64($0.timeIntervalSince1970 * 1e6) }),
                \(e.kernelID), \(e.calibrationID), \(e.dataStamp), \(footprint)::jsonb, \(box)::box,
                \(centre?.latitude), \(centre?.longitude), \(e.inputsDigest), \(e.shapeModelIDs), now())
            ON CONFLICT (observation_id) DO UPDATE SET planned = EXCLUDED.planned, status = EXCLUDED.status, target = EXCLUDED.target,
                bands = EXCLUDED.bands, embargo_until = EXCLUDED.embargo_until, start_sclk = EXCLUDED.start_sclk,
                end_sclk = EXCLUDED.end_sclk, start_utc = EXCLUDED.start_utc, end_utc = EXCLUDED.end_utc,
                first_ert_us = EXCLUDED.first_ert_us, last_ert_us = EXCLUDED.last_ert_us, kernel_id = EXCLUDED.kernel_id,
                calibration_id = EXCLUDED.calibration_id, data_stamp = EXCLUDED.data_stamp, footprint = EXCLUDED.footprint,
                bbox = EXCLUDED.bbox, centre_latitude = EXCLUDED.centre_latitude, centre_longitude = EXCLUDED.centre_longitude,
                inputs_digest = EXCLUDED.inputs_digest, shape_model_ids = EXCLUDED.shape_model_ids,
                changed_at = CASE WHEN observation_catalog.kernel_id IS DISTINCT FROM EXCLUDED.kernel_id
                                    OR observation_catalog.inputs_digest <> EXCLUDED.inputs_digest
                                    OR observation_catalog.calibration_id IS DISTINCT FROM EXCLUDED.calibration_id
                                    OR observation_catalog.data_stamp <> EXCLUDED.data_stamp THEN now() ELSE observation_catalog.changed_at END
            """, logger: logger)
    }

    // MARK: Reading

    static let columns = """
        observation_id, planned, status, target, bands, embargo_until, start_sclk, end_sclk, start_utc, end_utc,
        first_ert_us, last_ert_us, kernel_id, calibration_id, data_stamp, footprint::text, inputs_digest, shape_model_ids
        """

    typealias Row = (Int, Bool, String, String?, [String], Date?, Double, Double, Date?, Date?, Int64?, Int64?, String?, String?, String, String?, String, [String])

    static func entry(_ r: Row) throws -> Entry {
        Entry(
            observationID: r.0, planned: r.1, status: r.2, target: r.3, bands: r.4, embargoUntil: r.5, startSCLK: r.6, endSCLK: r.7,
            startUTC: r.8, endUTC: r.9, firstERT: r.10.map { Date(timeIntervalSince1970: Double($0) / 1e6) },
            lastERT: r.11.map { Date(timeIntervalSince1970: Double($0) / 1e6) }, kernelID: r.12, calibrationID: r.13, dataStamp: r.14,
            footprint: try r.15.map { try JSONDecoder().decode(GeographicFootprint.self, from: Data($0.utf8)) }, inputsDigest: r.16,
            shapeModelIDs: r.17)
    }

    /// One observation's entry, nil when unknown.
    public func entry(observationID: Int) async throws -> Entry? {
        let rows = try await database.client.query(
            "SELECT \(unescaped: Self.columns) FROM observation_catalog WHERE observation_id = \(observationID)",
            logger: logger)
        for try await row in rows.decode(Row.self) { return try Self.entry(row) }
        return nil
    }

    /// ``Embargo/isPublic(planned:embargoUntil:at:)`` as a condition on catalogue rows.
    static let visibleToPublic = "(planned AND (embargo_until IS NULL OR embargo_until <= now()))"

    /// A search: every field optional; results ordered by start time, then id.
    public struct Query: Sendable, Equatable {
        public var region: GeographicBox?
        public var sclk: ClosedRange<Double>?
        public var utc: ClosedRange<Date>?
        public var ert: ClosedRange<Date>?
        public var band: String?
        public var target: String?
        public var status: String?
        /// Only observations the public may see now.
        public var publicOnly = true
        public var limit = 100
        public var offset = 0
        public init() {}
    }

    /// Observations matching `query`, and how many match in all.
    public func search(_ query: Query) async throws -> (entries: [Entry], total: Int) {
        var conditions: [SQLFragment] = []
        if let region = query.region {
            // GiST-indexed box overlap against the region and its copies shifted by ±360°.
            let alternatives: [SQLFragment] = region.shiftedCopies.map { west, east in
                "bbox && box(point(\(west), \(region.south)), point(\(east), \(region.north)))"
            }
            conditions.append("(\(SQLFragment.joined(alternatives, separator: " OR ")))")
        }
        if let sclk = query.sclk { conditions.append("start_sclk <= \(sclk.upperBound) AND end_sclk >= \(sclk.lowerBound)") }
        if let utc = query.utc { conditions.append("start_utc <= \(utc.upperBound) AND end_utc >= \(utc.lowerBound)") }
        if let ert = query.ert {
            let (from, to) = (Int64(ert.lowerBound.timeIntervalSince1970 * 1e6), Int64(ert.upperBound.timeIntervalSince1970 * 1e6))
            conditions.append("first_ert_us <= \(to) AND last_ert_us >= \(from)")
        }
        if let band = query.band { conditions.append("\(band.uppercased()) = ANY (bands)") }
        if let target = query.target { conditions.append("target = \(target)") }
        if let status = query.status { conditions.append("status = \(status)") }
        if query.publicOnly { conditions.append("\(unescaped: Self.visibleToPublic)") }
        let filter: SQLFragment = conditions.isEmpty ? "" : "WHERE \(SQLFragment.joined(conditions, separator: " AND "))"
        var total = 0
        let counted: SQLFragment = "SELECT count(*) FROM observation_catalog \(filter)"
        for try await count in try await database.client.query(counted.query, logger: logger).decode(Int.self) {
            total = count
        }
        let page: SQLFragment = "SELECT \(unescaped: Self.columns) FROM observation_catalog \(filter) ORDER BY start_sclk, observation_id LIMIT \(max(0, query.limit)) OFFSET \(max(0, query.offset))"
        var entries: [Entry] = []
        for try await row in try await database.client.query(page.query, logger: logger).decode(Row.self) {
            entries.append(try Self.entry(row))
        }
        return (entries, total)
    }

    /// Up to `limit` observations nearest to `entry` (its spatial neighbours), nearest centre
    /// first: those whose boxes overlap its box grown on every side by twice its size, and by at
    /// least `reach` degrees of latitude (5° ≈ 300 km on Mars).
    public func neighbours(of entry: Entry, limit: Int, publicOnly: Bool, reach: Double = 5) async throws -> [Entry] {
        guard let f = entry.footprint else { return [] }
        let height = max(2 * (f.north - f.south), reach)
        let width = max(2 * (f.east - f.west), reach / max(0.05, cos(min(89, max(abs(f.north), abs(f.south))) * .pi / 180)))
        let span = f.east - f.west + 2 * width
        let west = span >= 360 ? 0 : GeographicFootprint.normalized(f.west - width)
        let east = span >= 360 ? 360 : GeographicFootprint.normalized(west + span)
        guard let grown = GeographicBox(west: west, south: max(-90, f.south - height), east: east, north: min(90, f.north + height)) else { return [] }
        var query = Query()
        query.region = grown
        query.publicOnly = publicOnly
        query.limit = 200
        let centre = f.centre
        func distance(_ other: Entry) -> Double {
            guard let c = other.footprint?.centre else { return .infinity }
            let dLon = abs(GeographicFootprint.normalized(c.longitude - centre.longitude + 180) - 180) * cos(centre.latitude * .pi / 180)
            return (dLon * dLon + (c.latitude - centre.latitude) * (c.latitude - centre.latitude)).squareRoot()
        }
        return try await search(query).entries.filter { $0.observationID != entry.observationID }
            .sorted { distance($0) < distance($1) }.prefix(limit).map { $0 }
    }
}

/// A first-come-first-served asynchronous lock: the refreshes of one process, one at a time.
actor RefreshGate {
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        guard held else { held = true; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty { held = false } else { waiting.removeFirst().resume() }
    }
}
