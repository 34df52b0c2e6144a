import AreoGeometry
import AreoProcessing
import AreoTelemetry
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Reference maps (ICD §12): validated from their GeoTIFF and side file, stored whole with the
/// SHA-256 of both (the one writer of `reference_maps`), listed, resolved per observation and
/// read back as maps.
public struct ReferenceMapRepository: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// What the archive holds of one map.
    public struct Stored: Sendable, Codable, Equatable {
        public var mapID: String
        public var produced: Date
        public var resolution: Double
        public var band: String
        public var accuracy: Double
        public var west: Double, east: Double, south: Double, north: Double
        public var width: Int, height: Int
        public var sha256: String
        public var sourceFile: String
        enum CodingKeys: String, CodingKey {
            case mapID = "map_id", produced, resolution = "resolution_m", band, accuracy = "accuracy_m", west, east, south, north, width, height
            case sha256, sourceFile = "source_file"
        }

        /// Whether the map's extent contains the box (at its longitudes or shifted by ±360°).
        public func covers(_ box: GeographicFootprint) -> Bool {
            guard south <= box.south, north >= box.north else { return false }
            if east - west >= 360 - 1e-9 { return true }
            return [-360.0, 0, 360].contains { west + $0 <= box.west && east + $0 >= box.east }
        }

        /// Whether the map's extent meets the box.
        public func meets(_ box: GeographicFootprint) -> Bool {
            guard south <= box.north, north >= box.south else { return false }
            if east - west >= 360 - 1e-9 || box.east - box.west >= 360 { return true }
            return [-360.0, 0, 360].contains { west + $0 <= box.east && east + $0 >= box.west }
        }
    }

    /// Validates `path` (`NAME.tif` with `NAME.tif.json` beside it) and stores it. The same id with
    /// the same content again changes nothing; with other content it is refused
    /// (``InputConflict``) unless `replace`.
    /// - Throws: ``ReferenceMapError`` naming the file and the rule; nothing is stored then.
    public func load(path: String, file: String, replace: Bool = false) async throws -> Stored {
        let map = try ReferenceMapFile.read(path: path)
        let (geotiff, sideJSON, digest) = try StoredRaster.content(path: path)
        let stored = Stored(
            mapID: map.id, produced: map.produced, resolution: map.resolution, band: map.band.name, accuracy: map.accuracy,
            west: map.west, east: map.east, south: map.south, north: map.north, width: map.width, height: map.height, sha256: digest, sourceFile: file)
        let logger = self.logger
        try await database.client.inTransaction(logger: logger) { connection in
            try await connection.lockForReplacing("reference_map:\(map.id)", logger: logger)
            var held: String??
            for try await value in try await connection.query(
                "SELECT content_sha256 FROM reference_maps WHERE map_id = \(map.id)", logger: logger
            ).decode(String?.self) { held = .some(value) }
            guard try ContentIdentity.mustStore(kind: "reference map", id: map.id, stored: held, loaded: digest, replace: replace) else { return }
            try await connection.query("DELETE FROM reference_maps WHERE map_id = \(map.id)", logger: logger)
            try await connection.query(
                """
                INSERT INTO reference_maps (map_id, produced, resolution_m, band, accuracy_m, west, east, south, north, width, height, geotiff, side, content_sha256, source_file)
                VALUES (\(map.id), \(map.produced), \(map.resolution), \(map.band.name), \(map.accuracy), \(map.west), \(map.east), \(map.south), \(map.north),
                        \(map.width), \(map.height), \(ByteBuffer(bytes: geotiff)), \(sideJSON)::jsonb, \(digest), \(file))
                """, logger: logger)
        }
        logger.info("reference map stored", metadata: ["map": "\(map.id)", "sha256": "\(digest.prefix(16))", "resolution_m": "\(map.resolution)"])
        return stored
    }

    /// Every map held, finest first (ties: newest first). The table holds tens of maps, not the
    /// archive's millions of rows: read whole.
    public func list() async throws -> [Stored] {
        var maps: [Stored] = []
        for try await (id, produced, resolution, band, accuracy, west, east, south, north, width, height, sha, file) in try await database.client.query(
            """
            SELECT map_id, produced, resolution_m, band, accuracy_m, west, east, south, north, width, height, content_sha256, source_file
            FROM reference_maps ORDER BY resolution_m, produced DESC
            """, logger: logger
        ).decode((String, Date, Double, String, Double, Double, Double, Double, Double, Int, Int, String, String).self) {
            maps.append(Stored(mapID: id, produced: produced, resolution: resolution, band: band, accuracy: accuracy, west: west, east: east,
                               south: south, north: north, width: width, height: height, sha256: sha, sourceFile: file))
        }
        return maps
    }

    /// The map that applies to an observation with footprint box `box` (ICD §12): the finest that
    /// covers it, ties to the newest; when none covers it whole, the finest that meets it.
    public func applicable(to box: GeographicFootprint, among held: [Stored]) -> Stored? {
        // `held` is finest first, newest first within a resolution.
        held.first { $0.covers(box) } ?? held.first { $0.meets(box) }
    }

    /// The map `id` read from its stored GeoTIFF and side file (parsed once per content digest in
    /// this process).
    /// - Throws: ``ProcessingError`` `inputReplaced` when it is no longer held.
    public func map(_ stored: Stored) async throws -> ReferenceMap {
        if let known = Self.memory.value(stored.sha256) { return known }
        var row: (ByteBuffer, String)? = nil
        for try await found in try await database.client.query(
            "SELECT geotiff, side::text FROM reference_maps WHERE map_id = \(stored.mapID) AND content_sha256 = \(stored.sha256)", logger: logger
        ).decode((ByteBuffer, String).self) { row = found }
        guard let (geotiff, side) = row else { throw ProcessingError(.inputReplaced, "reference map \(stored.mapID) was replaced while it was read") }
        let map = try StoredRaster.read(geotiff: Array(geotiff.readableBytesView), side: Data(side.utf8), fileName: "\(stored.mapID).tif") {
            try ReferenceMapFile.read(path: $0)
        }
        Self.memory.remember(map, digest: stored.sha256)
        return map
    }

    /// Parsed maps by content digest, shared by every repository in the process.
    public static let memory = ParsedInputMemory<ReferenceMap>(budgetBytes: 1 << 30) { $0.values.count * 4 }
}
