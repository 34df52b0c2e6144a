import AreoTelemetry
import AreoGeometry
import AreoDelivery
import AreoArchive
import AreoRadiometry
import AreoProducts
import AreoQuery
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Loads of processing inputs over HTTP (archivist only): geometry kernels, calibration sets
/// (a tar of the set's directory) and instrument descriptions. Each load refreshes the
/// catalogue; the response lists the observations whose applicable inputs changed, whose
/// products are regenerated.
struct InputsController: Sendable {
    let database: Database
    let delivery: ProductDelivery
    let uploadDirectory: URL
    static let maximumJSONBytes = 64 << 20
    static let maximumCalibrationBytes = 2 << 30

    func addRoutes(to group: RouterGroup<AreoRequestContext>) {
        group.post("/geometry") { request, context in
            try context.require(.archivist)
            let name = try Self.fileName(request, default: "kernel.json")
            let body = try await Self.collect(request)
            let replace = try request.query.choice("replace", of: ["true", "false"]) == "true"
            let loaded = try await ArchiveLoads(database: database, logger: context.logger).kernels([(body, name)], replace: replace)
            return try await self.loaded(["geometry_kernel": loaded.input.first?.kernelID ?? ""], report: loaded.catalogue)
        }
        group.post("/instruments") { request, context in
            try context.require(.archivist)
            let name = try Self.fileName(request, default: "instrument.json")
            let replace = try request.query.choice("replace", of: ["true", "false"]) == "true"
            let loaded = try await ArchiveLoads(database: database, logger: context.logger).instrument(try await Self.collect(request), file: name, replace: replace)
            return try await self.loaded(["instrument": loaded.input.name], report: loaded.catalogue)
        }
        group.post("/calibrations") { request, context in
            try context.require(.archivist)
            let replace = try request.query.choice("replace", of: ["true", "false"]) == "true"
            let archive = try await Uploads.spool(request, name: "calibration.tar", into: uploadDirectory, limit: Self.maximumCalibrationBytes, what: "a calibration archive")
            let directory = uploadDirectory.appendingPathComponent("calibration-\(UUID().uuidString)")
            defer {
                try? FileManager.default.removeItem(at: archive)
                try? FileManager.default.removeItem(at: directory)
            }
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Uploads.untar(archive, into: directory)
            let loaded = try await ArchiveLoads(database: database, logger: context.logger).calibration(directory: directory, replace: replace)
            return try await self.loaded(["calibration_set": loaded.input.description.calibrationID], report: loaded.catalogue)
        }
        // A shape model: a tar of NAME.dem.tif and its side file NAME.dem.tif.json (ICD §11).
        group.post("/shape-models") { request, context in
            try context.require(.archivist)
            let replace = try request.query.choice("replace", of: ["true", "false"]) == "true"
            return try await self.rasterUpload(request, suffix: ".dem.tif", what: "shape model") { path, name in
                let loaded = try await ArchiveLoads(database: database, logger: context.logger).shapeModel(path: path, file: name, replace: replace)
                return try await self.loaded(["shape_model": loaded.input.demID], report: loaded.catalogue)
            }
        }
        // A reference map: a tar of NAME.tif and its side file NAME.tif.json (ICD §12).
        group.post("/reference-maps") { request, context in
            try context.require(.archivist)
            let replace = try request.query.choice("replace", of: ["true", "false"]) == "true"
            return try await self.rasterUpload(request, suffix: ".tif", what: "reference map") { path, name in
                let loaded = try await ArchiveLoads(database: database, logger: context.logger).referenceMap(path: path, file: name, replace: replace)
                return try await self.loaded(["reference_map": loaded.input.mapID], report: loaded.catalogue)
            }
        }
        group.get("/reference-maps") { _, context in
            try ProductResponses.json(encodable: ["reference_maps": try await ReferenceMapRepository(database: database, logger: context.logger).list()])
        }
        group.get("/shape-models") { _, context in
            try ProductResponses.json(encodable: ["shape_models": try await ShapeModelRepository(database: database, logger: context.logger).list()])
        }
    }

    /// Spools an uploaded tar holding one `NAME{suffix}` raster with its side file, and loads it.
    func rasterUpload(
        _ request: Request, suffix: String, what: String, load: (_ path: String, _ name: String) async throws -> Response
    ) async throws -> Response {
        let archive = try await Uploads.spool(request, name: "raster.tar", into: uploadDirectory, limit: Self.maximumCalibrationBytes, what: "a \(what) archive")
        let directory = uploadDirectory.appendingPathComponent("raster-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: archive)
            try? FileManager.default.removeItem(at: directory)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Uploads.untar(archive, into: directory, name: "\(what) archive")
        let rasters = (try? FileManager.default.contentsOfDirectory(atPath: directory.path))?.filter { $0.hasSuffix(suffix) } ?? []
        guard rasters.count == 1, let name = rasters.first else {
            throw ProblemDocument(.unprocessableContent, "the archive must hold one NAME\(suffix) (with NAME\(suffix).json beside it); it holds \(rasters.count)",
                                  title: "Input does not conform to the ICD", code: "icd_violation")
        }
        return try await load(directory.appendingPathComponent(name).path, name)
    }

    /// Applies a load's change to this server's cache at once (other servers hear of it through
    /// the load's notification) and reports it.
    func loaded(_ what: [String: String], report: ObservationCatalog.RefreshReport) async throws -> Response {
        try await delivery.regenerateIfChanged()
        return try ProductResponses.json(encodable: LoadReport(loaded: what, regeneration: report), status: .created)
    }

    struct LoadReport: Encodable { let loaded: [String: String]; let regeneration: ObservationCatalog.RefreshReport }

    static func fileName(_ request: Request, default name: String) throws -> String {
        try request.query.name("name") ?? name
    }

    static func collect(_ request: Request) async throws -> Data {
        do {
            return Data(try await request.body.collect(upTo: maximumJSONBytes).readableBytesView)
        } catch is HTTPError {
            throw ProblemDocument(.contentTooLarge, "a JSON input may have at most \(maximumJSONBytes) bytes")
        }
    }
}
