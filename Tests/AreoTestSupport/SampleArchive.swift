import AreoArchive
import AreoProducts
import Foundation

/// Loads an independent sample mission into a test archive, as an operator would.
public enum SampleArchive {
    /// `../shared/samples/tiny-clean`: observation 5300 is embargoed until 2099, 5301 and 5302 are public.
    public static var tinyClean: URL { TestDatabase.samplesDirectory.appendingPathComponent("tiny-clean") }
    /// `../shared/samples/tiny-terrain`: observation 5500 (embargoed until 2099) over terrain, with
    /// shape models, straylight and a mechanism offset (`truth.json`).
    public static var tinyTerrain: URL { TestDatabase.samplesDirectory.appendingPathComponent("tiny-terrain") }

    /// Loads the mission's shape models (`dem/*.dem.tif`) as `areo dem load` does; the catalogue's refresh reports.
    @discardableResult
    public static func loadShapeModels(of mission: URL = tinyTerrain, into database: Database) async throws -> [ObservationCatalog.RefreshReport] {
        let folder = mission.appendingPathComponent("dem")
        var reports: [ObservationCatalog.RefreshReport] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).filter({ $0.hasSuffix(".dem.tif") }).sorted() {
            reports.append(try await ArchiveLoads(database: database, logger: TestDatabase.logger)
                .shapeModel(path: folder.appendingPathComponent(name).path, file: name).catalogue)
        }
        return reports
    }

    /// The schema (if not yet applied), plans, the passes (those `passes` keeps), instrument,
    /// calibration set and one geometry kernel (`predicted` or `reconstructed`), each through
    /// the archive's one load path (``ArchiveLoads``), as an operator's `areo … load` does.
    public static func load(
        _ mission: URL = tinyClean, kernel: String = "predicted", passes: @Sendable (String) -> Bool = { _ in true }, into database: Database
    ) async throws {
        let logger = TestDatabase.logger
        try await MigrationRunner(client: database.client, logger: logger).migrate(try Migration.load(from: TestDatabase.migrationsDirectory))
        let loads = ArchiveLoads(database: database, logger: logger)
        _ = try await loads.plans([(try Data(contentsOf: mission.appendingPathComponent("plans.plan.jsonl")), "plans.plan.jsonl")])
        let files = try FileManager.default.contentsOfDirectory(atPath: mission.path).filter { $0.hasSuffix(".dds") && passes($0) }.sorted()
        _ = try await loads.passes(files.map { mission.appendingPathComponent($0) })
        _ = try await loads.instrument(try Data(contentsOf: mission.appendingPathComponent("instrument.json")), file: "instrument.json")
        _ = try await loads.calibration(directory: mission.appendingPathComponent("calibration/cal-0001"))
        try await loadKernel(kernel, of: mission, into: database)
    }

    /// Loads `geometry/NAME.json` (what `areo geometry load` does).
    public static func loadKernel(_ name: String, of mission: URL = tinyClean, into database: Database) async throws {
        _ = try await ArchiveLoads(database: database, logger: TestDatabase.logger)
            .kernels([(try Data(contentsOf: mission.appendingPathComponent("geometry/\(name).json")), "\(name).json")])
    }
}
