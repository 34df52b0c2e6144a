import AreoGeometry
import AreoProcessing
import AreoTelemetry
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

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
        let (geotiff, sideJSON, digest) = try StoredRaster.content(path: path)
        let stored = Stored(
            demID: model.id, produced: model.produced, resolution: model.resolution, west: model.west, east: model.east,
            south: model.south, north: model.north, width: model.width, height: model.height, sha256: digest, sourceFile: file)
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

    /// How far (degrees) beyond an observation's footprint box a model is still taken to meet it:
    /// relief displaces the ground seen 10° off nadir by well under a kilometre, a few hundredths of a degree.
    public static let meetingMargin = 0.25

    /// The models (id and content digest) whose extent meets the box grown by ``meetingMargin``,
    /// by id. The table holds tens of models, not the archive's millions of rows: read whole.
    public func meeting(_ footprint: GeographicFootprint, among held: [Stored]) -> [Stored] {
        let m = Self.meetingMargin
        return held.filter { model in
            guard model.south <= footprint.north + m, model.north >= footprint.south - m else { return false }
            if model.east - model.west >= 360 - 1e-9 || footprint.east - footprint.west >= 360 { return true }
            return [-360.0, 0, 360].contains { shift in model.west + shift <= footprint.east + m && model.east + shift >= footprint.west - m }
        }.sorted { $0.demID < $1.demID }
    }

    /// The models `ids` read from their stored GeoTIFF and side file (each parsed once per
    /// content digest in this process, ``ShapeModelMemory``).
    /// - Throws: ``ProcessingError`` `inputReplaced` when one is no longer held.
    public func models(_ ids: [String]) async throws -> [ShapeModel] {
        guard !ids.isEmpty else { return [] }
        var digests: [String: String] = [:]
        for try await (id, digest) in try await database.client.query(
            "SELECT dem_id, content_sha256 FROM shape_models WHERE dem_id = ANY(\(ids))", logger: logger
        ).decode((String, String).self) { digests[id] = digest }
        var models: [ShapeModel] = []
        for id in ids.sorted() {
            guard let digest = digests[id] else { throw ProcessingError(.inputReplaced, "shape model \(id) is no longer held") }
            if let known = Self.memory.value(digest) { models.append(known); continue }
            var stored: (ByteBuffer, String)? = nil
            for try await row in try await database.client.query(
                "SELECT geotiff, side::text FROM shape_models WHERE dem_id = \(id) AND content_sha256 = \(digest)", logger: logger
            ).decode((ByteBuffer, String).self) { stored = row }
            guard let (geotiff, side) = stored else { throw ProcessingError(.inputReplaced, "shape model \(id) was replaced while it was read") }
            let model = try Self.parse(geotiff: Array(geotiff.readableBytesView), side: Data(side.utf8), name: id)
            Self.memory.remember(model, digest: digest)
            models.append(model)
        }
        return models
    }

    /// A stored model parsed as it was loaded.
    static func parse(geotiff: [UInt8], side: Data, name: String) throws -> ShapeModel {
        try StoredRaster.read(geotiff: geotiff, side: side, fileName: "\(name).dem.tif") { try ShapeModelFile.read(path: $0) }
    }

    /// Parsed models by content digest, shared by every repository in the process (a model's
    /// content never changes under its digest).
    public static let memory = ParsedInputMemory<ShapeModel>(budgetBytes: 1 << 30) { $0.radii.count * 4 }
}

/// Rasters stored whole in the archive (shape models, reference maps) read back as they were
/// loaded: libtiff reads files, so through a private temporary copy of the GeoTIFF and its side file.
enum StoredRaster {
    /// A raster's GeoTIFF and side file as stored, and their content identity: the SHA-256 of both.
    static func content(path: String) throws -> (geotiff: Data, side: String, sha256: String) {
        let geotiff = try Data(contentsOf: URL(fileURLWithPath: path)), side = try Data(contentsOf: URL(fileURLWithPath: path + ".json"))
        var hasher = SHA256()
        hasher.update(data: geotiff)
        hasher.update(data: side)
        return (geotiff, String(decoding: side, as: UTF8.self), ContentIdentity.hex(hasher.finalize()))
    }

    static func read<Value>(geotiff: [UInt8], side: Data, fileName: String, _ read: (String) throws -> Value) throws -> Value {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("areo-raster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent(fileName).path
        try Data(geotiff).write(to: URL(fileURLWithPath: path))
        try side.write(to: URL(fileURLWithPath: path + ".json"))
        return try read(path)
    }
}

/// Inputs parsed from the archive, by content digest, least recently used out beyond a byte
/// budget (`cost` says what one holds).
public final class ParsedInputMemory<Value: Sendable>: Sendable {
    public let budgetBytes: Int
    private let cost: @Sendable (Value) -> Int
    private let state = Mutex((tick: UInt64(0), bytes: 0, entries: [String: (value: Value, used: UInt64)]()))

    public init(budgetBytes: Int, cost: @escaping @Sendable (Value) -> Int) { (self.budgetBytes, self.cost) = (budgetBytes, cost) }

    public func value(_ digest: String) -> Value? {
        state.withLock { s in
            guard let hit = s.entries[digest] else { return nil }
            s.tick += 1
            s.entries[digest] = (hit.value, s.tick)
            return hit.value
        }
    }

    public func remember(_ value: Value, digest: String) {
        state.withLock { s in
            s.tick += 1
            if s.entries.updateValue((value, s.tick), forKey: digest) == nil { s.bytes += cost(value) }
            for (key, entry) in s.entries.sorted(by: { $0.value.used < $1.value.used }) where s.bytes > budgetBytes && key != digest {
                s.bytes -= cost(entry.value)
                s.entries[key] = nil
            }
        }
    }
}
