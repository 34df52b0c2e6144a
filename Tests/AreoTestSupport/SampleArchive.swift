import AreoIngest
import AreoProducts
import AreoStore
import Foundation

/// Loads an independent sample mission into a test archive, as an operator would.
public enum SampleArchive {
    /// `../shared/samples/tiny-clean`: observation 5300 is embargoed until 2099, 5301 and 5302 are public.
    public static var tinyClean: URL { TestDatabase.samplesDirectory.appendingPathComponent("tiny-clean") }

    /// The schema (if not yet applied), plans, the three passes, instrument, calibration set and
    /// one geometry kernel (`predicted` or `reconstructed`); then the catalogue is refreshed.
    public static func load(_ mission: URL = tinyClean, kernel: String = "predicted", into database: Database) async throws {
        let logger = TestDatabase.logger
        try await MigrationRunner(client: database.client, logger: logger).migrate(try Migration.load(from: TestDatabase.migrationsDirectory))
        _ = try await PlanRepository(database: database, logger: logger).load(
            try Data(contentsOf: mission.appendingPathComponent("plans.plan.jsonl")), file: "plans.plan.jsonl")
        for pass in try FileManager.default.contentsOfDirectory(atPath: mission.path).filter({ $0.hasSuffix(".dds") }).sorted() {
            _ = try await PassIngestor(database: database, logger: logger).ingest(file: mission.appendingPathComponent(pass))
        }
        let inputs = InputRepository(database: database, logger: logger)
        _ = try await inputs.loadInstrument(try Data(contentsOf: mission.appendingPathComponent("instrument.json")), file: "instrument.json")
        _ = try await inputs.loadCalibration(directory: mission.appendingPathComponent("calibration/cal-0001"))
        try await loadKernel(kernel, of: mission, into: database)
    }

    /// Loads `geometry/NAME.json` and refreshes the catalogue (what `areo geometry load` does).
    public static func loadKernel(_ name: String, of mission: URL = tinyClean, into database: Database) async throws {
        _ = try await ClockService(database: database, logger: TestDatabase.logger).loadKernel(
            try Data(contentsOf: mission.appendingPathComponent("geometry/\(name).json")), file: "\(name).json")
        try await ObservationCatalog(database: database, logger: TestDatabase.logger).refresh()
    }
}
