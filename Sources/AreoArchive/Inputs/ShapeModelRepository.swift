import AreoGeometry
import AreoProcessing
import AreoTelemetry
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Shape models (ICD §11): validated from their GeoTIFF and side file, stored whole with the
/// SHA-256 of both (the one writer of `shape_models`), listed, and read back as models.
public struct ShapeModelRepository: Sendable {
    let database: Database
    let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// What the archive holds of one model.
    public struct Stored: Sendable, Codable, Equatable {
        public var demID: String
        public var produced: Date
        public var resolution: Double
        public var west: Double, east: Double, south: Double, north: Double
        public var width: Int, height: Int
        public var sha256: String
        public var sourceFile: String
        enum CodingKeys: String, CodingKey {
            case demID = "dem_id", produced, resolution = "resolution_m", west, east, south, north, width, height, sha256, sourceFile = "source_file"
        }
    }

    /// Validates `path` (`NAME.dem.tif` with `NAME.dem.tif.json` beside it) and stores it. The same
    /// id with the same content again changes nothing; with other content it is refused
    /// (``InputConflict``) unless `replace`.
    /// - Throws: ``ShapeModelError`` naming the file and the rule; nothing is stored then.
    public func load(path: String, file: String, replace: Bool = false) async throws -> Stored {
        let model = try ShapeModelFile.read(path: path)
        let geotiff = try Data(contentsOf: URL(fileURLWithPath: path)), side = try Data(contentsOf: URL(fileURLWithPath: path + ".json"))
        var hasher = SHA256()
        hasher.update(data: geotiff)
        hasher.update(data: side)
        let digest = ContentIdentity.hex(hasher.finalize())
        let stored = Stored(
            demID: model.id, produced: model.produced, resolution: model.resolution, west: model.west, east: model.east,
            south: model.south, north: model.north, width: model.width, height: model.height, sha256: digest, sourceFile: file)
        let sideJSON = String(decoding: side, as: UTF8.self)
        let logger = self.logger
        try await database.client.inTransaction(logger: logger) { connection in
            try await connection.lockForReplacing("shape_model:\(model.id)", logger: logger)
            var held: String??
            for try await value in try await connection.query(
                "SELECT content_sha256 FROM shape_models WHERE dem_id = \(model.id)", logger: logger
            ).decode(String?.self) { held = .some(value) }
            guard try ContentIdentity.mustStore(kind: "shape model", id: model.id, stored: held, loaded: digest, replace: replace) else { return }
            try await connection.query("DELETE FROM shape_models WHERE dem_id = \(model.id)", logger: logger)
            try await connection.query(
                """
                INSERT INTO shape_models (dem_id, produced, resolution_m, west, east, south, north, width, height, geotiff, side, content_sha256, source_file)
                VALUES (\(model.id), \(model.produced), \(model.resolution), \(model.west), \(model.east), \(model.south), \(model.north),
                        \(model.width), \(model.height), \(ByteBuffer(bytes: geotiff)), \(sideJSON)::jsonb, \(digest), \(file))
                """, logger: logger)
        }
        logger.info("shape model stored", metadata: ["dem": "\(model.id)", "sha256": "\(digest.prefix(16))", "resolution_m": "\(model.resolution)"])
        return stored
    }

    /// Every model held, finest first (ties: newest first).
    public func list() async throws -> [Stored] {
        var models: [Stored] = []
        for try await (id, produced, resolution, west, east, south, north, width, height, sha, file) in try await database.client.query(
            """
            SELECT dem_id, produced, resolution_m, west, east, south, north, width, height, content_sha256, source_file
            FROM shape_models ORDER BY resolution_m, produced DESC
            """, logger: logger
        ).decode((String, Date, Double, Double, Double, Double, Double, Int, Int, String, String).self) {
            models.append(Stored(demID: id, produced: produced, resolution: resolution, west: west, east: east, south: south, north: north,
                                 width: width, height: height, sha256: sha, sourceFile: file))
        }
        return models
    }
}
