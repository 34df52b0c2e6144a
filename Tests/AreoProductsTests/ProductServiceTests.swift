import AreoGeometry
import AreoArchive
import AreoProcessing
import AreoProducts
import AreoRadiometry
import AreoTelemetry
import AreoTestSupport
import Foundation
import Testing

/// Products made from the archive: the applicable inputs are resolved at request time, so a newer
/// kernel is used from the moment it is loaded.
@Suite struct ProductServiceTests {
    static var mission: URL { TestDatabase.samplesDirectory.appendingPathComponent("tiny-clean") }

    /// Migrates and ingests tiny-clean with its instrument and calibration (no kernel yet).
    static func prepare(_ database: Database) async throws {
        let logger = TestDatabase.logger
        try await MigrationRunner(client: database.client, logger: logger).migrate(Migration.load(from: TestDatabase.migrationsDirectory))
        _ = try await PlanRepository(database: database, logger: logger).load(
            Data(contentsOf: mission.appendingPathComponent("plans.plan.jsonl")), file: "plans.plan.jsonl")
        for n in 1...3 {
            _ = try await PassIngestor(database: database, logger: logger).ingest(file: mission.appendingPathComponent("pass_00\(n).dds"))
        }
        let inputs = InputRepository(database: database, logger: logger)
        _ = try await inputs.loadInstrument(Data(contentsOf: mission.appendingPathComponent("instrument.json")), file: "instrument.json")
        _ = try await inputs.loadCalibration(directory: mission.appendingPathComponent("calibration/cal-0001"))
    }

    @Test func productsUseTheNewestApplicableKernelFromTheMomentItIsLoaded() async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await Self.prepare(database)
            let service = ProductService(database: database, logger: logger)
            let request = try ProductRequest(observationID: 5300, kind: .projected, bands: [.pan], scale: 20, format: .dat)

            // Without a kernel: a clear refusal that says what to do.
            let missing = await #expect(throws: ProcessingError.self) { try await service.product(request) }
            #expect(missing?.description.contains("no geometry kernel covers observation 5300") == true)

            let clock = ClockService(database: database, logger: logger)
            for name in ["predicted", "reconstructed"] {
                _ = try await clock.loadKernel(Data(contentsOf: Self.mission.appendingPathComponent("geometry/\(name).json")), file: name)
            }
            let first = try await service.product(request)
            #expect(first.provenance.kernelID == "recon-3" && first.provenance.calibrationID == "cal-0001")
            let label = try #require(first.label)
            #expect(label.contains("<md5_checksum>") && label.contains("recon-3"))
            #expect(first.bytes.count % 4 == 0 && first.bytes.count > 0)

            // A refined kernel arrives: the very next product is made with it.
            var refined = try GeometryKernel.parse(Data(contentsOf: Self.mission.appendingPathComponent("geometry/reconstructed.json")), file: "r")
            refined.kernelID = "refined-7"
            refined.kind = .refined
            refined.derivedFrom = .init(kernelID: "recon-3", referenceMaps: [], observations: [])
            _ = try await clock.loadKernel(try JSONEncoder().encode(refined), file: "refined-7.json")
            let second = try await service.product(request)
            #expect(second.provenance.kernelID == "refined-7")
            #expect(second.bytes == first.bytes)  // the same geometry, so the same pixels

            // Every format encodes, and PNG/JPEG decode back to the product's size.
            let png = try await service.product(try ProductRequest(observationID: 5302, kind: .composite, bands: [.pan, .blu], scale: 40, format: .png))
            #expect(png.bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.label == nil)
            let jpg = try await service.product(try ProductRequest(observationID: 5301, kind: .calibrated, bands: [.nir], format: .jpg))
            #expect(jpg.bytes.starts(with: [0xFF, 0xD8]))
        }
    }

    /// The service reads of each band only the calibration rows its windows cover: its
    /// calibrated products equal those made with the whole set read from the directory (binned
    /// observation 5302 included).
    @Test(arguments: [5300, 5302])
    func calibrationSlicesGiveTheWholeSetsProducts(observation: Int) async throws {
        try await TestDatabase.withFreshDatabase { database in
            let logger = TestDatabase.logger
            try await Self.prepare(database)
            let kernelData = try Data(contentsOf: Self.mission.appendingPathComponent("geometry/reconstructed.json"))
            _ = try await ClockService(database: database, logger: logger).loadKernel(kernelData, file: "reconstructed.json")
            let service = ProductService(database: database, logger: logger)
            let request = try ProductRequest(observationID: observation, kind: .calibrated, bands: [.blu], format: .dat)
            let archived = try await service.product(request)

            let inputs = try await service.inputs(observationID: observation)
            let whole = try CalibrationSet.load(directory: Self.mission.appendingPathComponent("calibration/cal-0001"))
            #expect(inputs.processor.calibrator.set.arrays[.blu]!.bias.count < whole.arrays[.blu]!.bias.count)  // a slice was read
            let processor = ObservationProcessor(
                instrument: inputs.processor.instrument, kernel: try GeometryKernel.parse(kernelData, file: "reconstructed.json"), calibration: whole)
            let fragments = FragmentRepository(database: database, logger: logger)
            let expected = try await processor.render(request, framelets: inputs.framelets) { reference in
                Array(try await fragments.fragment(observationID: observation, framelet: Int(reference.header.frameletIndex), band: .blu)!.payload)
            }
            #expect(archived.bytes == (try expected.raster.encode(.dat)))
        }
    }
}
