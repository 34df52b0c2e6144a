import AreoTelemetry
import AreoGeometry
import AreoDelivery
import AreoIngest
import AreoRadiometry
import AreoProducts
import AreoQuery
import AreoStore
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
            let kernel = try await ClockService(database: database, logger: context.logger).loadKernel(body, file: name)
            return try await self.loaded(["geometry_kernel": kernel.kernelID], context: context)
        }
        group.post("/instruments") { request, context in
            try context.require(.archivist)
            let name = try Self.fileName(request, default: "instrument.json")
            let instrument = try await InputRepository(database: database, logger: context.logger).loadInstrument(try await Self.collect(request), file: name)
            return try await self.loaded(["instrument": instrument.name], context: context)
        }
        group.post("/calibrations") { request, context in
            try context.require(.archivist)
            let archive = try await Uploads.spool(request, name: "calibration.tar", into: uploadDirectory, limit: Self.maximumCalibrationBytes, what: "a calibration archive")
            let directory = uploadDirectory.appendingPathComponent("calibration-\(UUID().uuidString)")
            defer {
                try? FileManager.default.removeItem(at: archive)
                try? FileManager.default.removeItem(at: directory)
            }
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Uploads.untar(archive, into: directory)
            let set = try await InputRepository(database: database, logger: context.logger).loadCalibration(directory: directory)
            return try await self.loaded(["calibration_set": set.description.calibrationID], context: context)
        }
    }

    /// Refreshes the catalogue, applies the change to the cache at once, and reports it.
    func loaded(_ what: [String: String], context: AreoRequestContext) async throws -> Response {
        let report = try await ObservationCatalog(database: database, logger: context.logger).refresh()
        try await delivery.regenerateIfChanged()
        return try ProductResponses.json(encodable: LoadReport(loaded: what, regeneration: report), status: .created)
    }

    struct LoadReport: Encodable { let loaded: [String: String]; let regeneration: ObservationCatalog.RefreshReport }

    static func fileName(_ request: Request, default name: String) throws -> String {
        let name = try request.query.name("name") ?? name
        guard name.range(of: #"^[A-Za-z0-9._-]{1,200}$"#, options: .regularExpression) != nil else {
            throw ProblemDocument(.badRequest, "name must be a plain file name ([A-Za-z0-9._-])")
        }
        return name
    }

    static func collect(_ request: Request) async throws -> Data {
        do {
            return Data(try await request.body.collect(upTo: maximumJSONBytes).readableBytesView)
        } catch is HTTPError {
            throw ProblemDocument(.contentTooLarge, "a JSON input may have at most \(maximumJSONBytes) bytes")
        }
    }
}
