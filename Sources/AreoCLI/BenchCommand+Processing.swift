import AreoGeometry
import AreoArchive
import AreoProcessing
import AreoProducts
import AreoRadiometry
import AreoSimulator
import AreoTelemetry
import ArgumentParser
import Foundation
import Logging
import PostgresNIO
#if canImport(Glibc)
import Glibc
#endif

extension BenchCommand {
    /// `areo bench simulate`: the time to simulate one cassis observation.
    struct Simulate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Simulate one cassis observation (40 exposures × 4 bands × 2048 × 256, CCSDS 121.0) and print the time (goal < 10 s).")
        @Option(help: "Housekeeping dictionary (ICD §5).") var hkDictionary = "../shared/icd/hk-dictionary.json"
        @Option(help: "Random seed.") var seed: UInt64 = 1

        func run() async throws {
            let (summary, _) = try await BenchCommand.simulateCassis(seed: seed, hkDictionary: hkDictionary, keep: false)
            let observation = summary.observationSeconds.first ?? .nan
            print("cassis observation: \(summary.fragments) fragments, \(summary.packets) packets")
            print("simulated in \(String(format: "%.2f", observation)) s (goal < 10 s) on \(ProcessInfo.processInfo.activeProcessorCount) cores; whole mission with calibration set and kernels \(String(format: "%.2f", summary.seconds)) s")
        }
    }

    /// Simulates a one-observation cassis mission into a temporary directory.
    /// Simulates one cassis observation, ingests it into a scratch database and runs `body` with
    /// the mission's directory, the database and the observation; removes both afterwards.
    static func withCassisArchive(
        _ common: CommonOptions, hkDictionary: String, logger: Logger, terrain: Bool = false, referenceMap: Bool = false,
        _ body: (_ mission: URL, _ location: DatabaseLocation, _ observationID: Int) async throws -> Void
    ) async throws {
        print(terrain ? "simulating a cassis observation over terrain (about 2–3 minutes: every ray meets the shape models) …"
              : referenceMap ? "simulating a cassis observation, an overlapping one and a reference map …" : "simulating a cassis observation …")
        let (_, mission) = try await simulateCassis(seed: 1, hkDictionary: hkDictionary, keep: true, terrain: terrain, referenceMap: referenceMap)
        defer { try? FileManager.default.removeItem(at: mission) }
        let migrations = try common.loadMigrations()
        let session = try await DatabaseSession.open(common, logger: logger)
        defer { session.close() }
        try await withScratchDatabase(session, logger: logger) { location in
            print("ingesting it …")
            try await body(mission, location, try await loadMission(
                mission, into: location, migrations: migrations, kernel: referenceMap ? "predicted" : "reconstructed", logger: logger))
        }
    }

    /// Ingests a simulated mission (dictionary, plans, passes, instrument, calibration, the
    /// reconstructed kernel, or `kernel`; shape models and reference maps when it has them) into
    /// `location`; returns its first observation.
    static func loadMission(_ mission: URL, into location: DatabaseLocation, migrations: [Migration], kernel: String = "reconstructed", logger: Logger) async throws -> Int {
        try await Database.withDatabase(location: location, logger: logger) { database -> Int in
            try await MigrationRunner(client: database.client, logger: logger).migrate(migrations)
            let loads = ArchiveLoads(database: database, logger: logger)
            _ = try await loads.housekeepingDictionary(Data(contentsOf: mission.appendingPathComponent("hk-dictionary.json")), file: "hk-dictionary.json")
            let plans = try await loads.plans([(Data(contentsOf: mission.appendingPathComponent("mission.plan.jsonl")), "mission.plan.jsonl")])
            let passes = try FileManager.default.contentsOfDirectory(atPath: mission.path).filter { $0.hasSuffix(".dds") }.sorted()
            _ = try await loads.passes(passes.map { mission.appendingPathComponent($0) })
            _ = try await loads.instrument(Data(contentsOf: mission.appendingPathComponent("instrument.json")), file: "instrument.json")
            _ = try await loads.calibration(directory: mission.appendingPathComponent("calibration/cal-0001"))
            _ = try await loads.kernels([(Data(contentsOf: mission.appendingPathComponent("geometry/\(kernel).json")), "\(kernel).json")])
            let maps = mission.appendingPathComponent("refmap")
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: maps.path)) ?? []).filter({ $0.hasSuffix(".tif") }).sorted() {
                _ = try await loads.referenceMap(path: maps.appendingPathComponent(name).path, file: name)
            }
            let dem = mission.appendingPathComponent("dem")
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: dem.path)) ?? []).filter({ $0.hasSuffix(".dem.tif") }).sorted() {
                _ = try await loads.shapeModel(path: dem.appendingPathComponent(name).path, file: name)
            }
            return plans.input[0].observations[0]
        }
    }

    static func simulateCassis(seed: UInt64, hkDictionary: String, keep: Bool, terrain: Bool = false, referenceMap: Bool = false) async throws -> (MissionSimulator.Summary, URL) {
        guard let data = FileManager.default.contents(atPath: hkDictionary) else { throw ValidationError("cannot read \(hkDictionary) (--hk-dictionary)") }
        var options = SimulationOptions()
        (options.seed, options.instrument, options.observations, options.orbits, options.truthMaps) = (seed, .cassis, 1, 1, false)
        options.terrain = terrain
        options.referenceMap = referenceMap
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("areo-bench-cassis-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: directory)
        let summary = try await MissionSimulator(options: options, dictionary: try HousekeepingDictionary.decode(data)).run(into: directory)
        if !keep { try? FileManager.default.removeItem(at: directory) }
        return (summary, directory)
    }

    /// `areo bench process`: a cassis observation to a projected NIR-PAN-BLU PNG at 4 m/pixel,
    /// beside `gdalwarp -r bilinear` on a raster of the same output size.
    struct ProcessProduct: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "process",
            abstract: "Make a cassis NIR-PAN-BLU composite PNG at 4 m/pixel; print seconds, peak memory and resampling throughput beside gdalwarp.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Housekeeping dictionary (ICD §5).") var hkDictionary = "../shared/icd/hk-dictionary.json"
        @Flag(inversion: .prefixedNo, help: "Over terrain with every correction on: shape models, mechanism offset and straylight estimated and applied (default yes).")
        var terrain = true

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeBenchLogger()
            let terrain = self.terrain
            try await BenchCommand.withCassisArchive(common, hkDictionary: hkDictionary, logger: logger, terrain: terrain) { mission, location, observationID in

                // The product, made by a child `areo product` so its peak memory is its own. First
                // with the corrections estimated inline (an observation nobody estimated yet), then
                // cold again with them stored, as after `areo observation corrections` or a server
                // with `--automatic-corrections` that saw the observation complete.
                let output = mission.appendingPathComponent("composite.png")
                func product() throws -> Double {
                    let started = ContinuousClock.now
                    let child = Foundation.Process()
                    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
                    child.arguments = ["product", String(observationID), "composite", "--bands", "NIR,PAN,BLU", "--scale", "4", "--format", "png",
                                       "--out", output.path, "--database-url", location.url, "--log-level", "error"]
                    child.standardOutput = FileHandle.nullDevice
                    child.standardError = FileHandle.nullDevice
                    try child.run()
                    child.waitUntilExit()
                    guard child.terminationStatus == 0 else { throw ValidationError("areo product failed (status \(child.terminationStatus))") }
                    return (ContinuousClock.now - started).seconds
                }
                let inline = try product()
                let seconds = try product()
                var usage = rusage()
                getrusage(RUSAGE_CHILDREN.rawValue, &usage)
                let peakMiB = Double(usage.ru_maxrss) / 1024
                let (width, height) = try Self.pngSize(output)

                // Areo's resampling alone: one band's calibrated framelets, in memory, into the grid.
                let (resampled, resampleSeconds) = try await Database.withDatabase(location: location, logger: logger) { database in
                    try await Self.resampling(ProductService(database: database, logger: logger), observationID: observationID, logger: logger)
                }
                let areoRate = Double(resampled) / resampleSeconds / 1e6
                print("composite NIR-PAN-BLU PNG at 4 m/pixel: \(width) × \(height) = \(String(format: "%.1f", Double(width * height) / 1e6)) MP")
                print("areo product, cold (corrections stored beforehand): \(String(format: "%.2f", seconds)) s (goal ≤ \(terrain ? "3.5 s with the corrections" : "3 s"); ratio to goal \(String(format: "%.2f", seconds / (terrain ? 3.5 : 3)))), peak memory \(String(format: "%.0f", peakMiB)) MiB (goal ≤ 1536 MiB)")
                print("areo product, cold, corrections estimated inline (first product of an observation not yet estimated): \(String(format: "%.2f", inline)) s")
                if terrain { try await Self.printCorrections(mission: mission, location: location, observationID: observationID, logger: logger) }
                print("areo resampling (bilinear, inverse mapping, one band): \(String(format: "%.1f", areoRate)) MP/s")
                if let gdal = try Self.gdalwarpRate(width: width, height: height, work: mission) {
                    print("gdalwarp -r bilinear (peer, same output size, all cores): \(String(format: "%.1f", gdal)) MP/s")
                    print("ratio areo/gdalwarp: \(String(format: "%.2f", areoRate / gdal)) (goal ≥ 1)")
                } else {
                    print("gdalwarp not found: install Debian's gdal-bin to measure the peer")
                }
            }
        }

        /// What the product was made with (the estimate the child stored, against the simulator's
        /// truth) and the ray–terrain intersection's throughput on the observation's own rays.
        static func printCorrections(mission: URL, location: DatabaseLocation, observationID: Int, logger: Logger) async throws {
            try await Database.withDatabase(location: location, logger: logger) { database in
                let truth = (try? JSONSerialization.jsonObject(with: Data(contentsOf: mission.appendingPathComponent("truth.json")))) as? [String: Any]
                let terrainTruth = truth?["terrain"] as? [String: Any]
                let trueOffset = (terrainTruth?["mechanism_offsets_deg"] as? [String: Any])?[String(observationID)] as? Double
                let trueEpsilon = (terrainTruth?["straylight_epsilon"] as? [String: Any])?[String(observationID)] as? Double
                if let record = try await ObservationCorrectionsRepository(database: database, logger: logger)
                    .history(observationID: observationID, publicOnly: false, limit: 10).last {
                    let e = record.estimate
                    print("shape models: \(record.shapeModelIDs.joined(separator: ", "))")
                    print(String(format: "mechanism offset %+.4f° ± %.4f° (truth %+.4f°), fringing %.3f → %.3f px", e.mechanism.offsetDegrees,
                                 e.mechanism.uncertaintyDegrees ?? .nan, trueOffset ?? .nan, e.mechanism.fringingBefore ?? .nan, e.mechanism.fringingAfter ?? .nan))
                    print(String(format: "straylight ε %+.3f ± %.3f (truth %+.3f), %d framelets exposed, %.1f %% of their signal removed",
                                 e.straylight.epsilon ?? .nan, e.straylight.uncertainty ?? .nan, trueEpsilon ?? .nan, e.straylight.exposedFramelets,
                                 e.straylight.removedFraction * 100))
                }
                // Ray–DEM throughput: cold rays (no neighbour to start from) through detector points of every framelet.
                let inputs = try await ProductService(database: database, logger: logger).inputs(observationID: observationID)
                guard let terrain = inputs.processor.terrain else { print("no shape model applies: no ray–DEM figure"); return }
                var rays: [(Trajectory.State, Vector3)] = []
                for reference in inputs.framelets {
                    let camera = inputs.processor.camera(for: reference)
                    for k in 0..<400 {
                        let (c, r) = (Double(camera.samples - 1) * Double(k % 20) / 19, Double(camera.lines - 1) * Double(k / 20) / 19)
                        let (x, y) = CameraModel.detectorPoint(sample: c, line: r, firstColumn: camera.firstColumn, firstRow: camera.firstRow, binning: camera.binning)
                        rays.append((camera.state, camera.state.attitude.rotate(camera.camera.lookDirection(x: x, y: y, rotationDegrees: camera.rotationDegrees))))
                    }
                }
                let start = ContinuousClock.now
                let hits = rays.count { terrain.intersect(origin: $0.0.position, direction: $0.1) != nil }
                let seconds = (ContinuousClock.now - start).seconds
                print(String(format: "ray–DEM intersection: %.2f M rays/s on one core (%d rays, %d met the terrain; march + regula falsi to 1 mm)",
                             Double(rays.count) / seconds / 1e6, rays.count, hits))
            }
        }

        static func pngSize(_ url: URL) throws -> (Int, Int) {
            let bytes = [UInt8](try Data(contentsOf: url).prefix(24))
            func u32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
            return (u32(16), u32(20))
        }

        /// Output pixels written per second by MosaicBuilder for the NIR band (its framelets
        /// decoded and calibrated beforehand, outside the timing).
        static func resampling(_ service: ProductService, observationID: Int, logger: Logger) async throws -> (Int, Double) {
            let inputs = try await service.inputs(observationID: observationID)
            let grid = try inputs.processor.grid(for: inputs.framelets, scale: 4)
            let fragments = FragmentRepository(database: service.database, logger: logger)
            var calibrated: [(CalibratedFramelet, FrameletCamera)] = []
            for reference in inputs.framelets where reference.header.band == .nir {
                guard let stored = try await fragments.fragment(observationID: observationID, framelet: Int(reference.header.frameletIndex), band: .nir) else { continue }
                calibrated.append((try inputs.processor.calibrate(reference, payload: stored.payload), inputs.processor.camera(for: reference)))
            }
            var builder = MosaicBuilder(grid: grid)
            let start = ContinuousClock.now
            var written = 0
            for (framelet, camera) in calibrated {
                if let own = builder.add(framelet, camera: camera) { written += own.values.count { !$0.isNaN } }
            }
            return (written, (ContinuousClock.now - start).seconds)
        }

        /// gdalwarp's bilinear throughput: a geographic Float32 raster of the output's size
        /// warped to Mars equirectangular at that size, all cores.
        static func gdalwarpRate(width: Int, height: Int, work: URL) throws -> Double? {
            guard ExternalTool.path("gdalwarp") != nil, ExternalTool.path("gdal_create") != nil else { return nil }
            let source = work.appendingPathComponent("gdal-source.tif"), target = work.appendingPathComponent("gdal-target.tif")
            // About 9 × 50 km of ground near the equator, as degrees.
            let degreesWide = Double(width) * 4 / 3_396_190 * 180 / .pi, degreesHigh = Double(height) * 4 / 3_396_190 * 180 / .pi
            try ExternalTool.run("gdal_create", [
                "-of", "GTiff", "-outsize", String(width), String(height), "-bands", "1", "-ot", "Float32", "-burn", "0.25",
                "-a_srs", "+proj=longlat +R=3396190 +no_defs", "-a_ullr", "10", String(degreesHigh / 2), String(10 + degreesWide), String(-degreesHigh / 2),
                source.path,
            ], requireSuccess: true)
            let start = ContinuousClock.now
            try ExternalTool.run("gdalwarp", [
                "-overwrite", "-q", "-r", "bilinear", "-multi", "-wo", "NUM_THREADS=ALL_CPUS", "-t_srs", "+proj=eqc +lat_ts=0 +lon_0=10 +R=3396190 +units=m +no_defs",
                "-ts", String(width), String(height), source.path, target.path,
            ], requireSuccess: true)
            let seconds = (ContinuousClock.now - start).seconds
            return Double(width * height) / seconds / 1e6
        }
    }
}

extension BenchCommand {
    /// `areo bench refine`: a cassis observation with only its predicted kernel (about a
    /// kilometre off) refined against a reference map at 5 camera pixels (ICD §12).
    struct Refine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "refine",
            abstract: "Refine a cassis observation's predicted geometry against a reference map; print seconds (goal ≤ 10 s), residuals and the shift, beside gdalwarp over the same ground.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Housekeeping dictionary (ICD §5).") var hkDictionary = "../shared/icd/hk-dictionary.json"

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeBenchLogger()
            try await BenchCommand.withCassisArchive(common, hkDictionary: hkDictionary, logger: logger, referenceMap: true) { mission, location, observationID in
                try await Database.withDatabase(location: location, logger: logger) { database in
                    let products = ProductService(database: database, logger: logger)
                    // The observation's corrections (mechanism offset) are estimated once per inputs, before: not refinement's cost.
                    let warm = ContinuousClock.now
                    let inputs = try await products.inputs(observationID: observationID)
                    let corrections = (ContinuousClock.now - warm).seconds
                    let started = ContinuousClock.now
                    let record = try await GeometryRefinementService(products: products, logger: logger).refine(observationID: observationID, trigger: .request)
                    let seconds = (ContinuousClock.now - started).seconds
                    let r = record.result
                    print("cassis observation \(observationID): \(record.accepted ? "refined to \(record.refinedKernelID ?? "?")" : "REFUSED: \(record.reason ?? "?")")")
                    print(String(format: "refinement: %.2f s (goal ≤ 10 s, ratio to goal %.2f) on %d cores; the corrections estimate before it %.2f s",
                                 seconds, seconds / 10, ProcessInfo.processInfo.activeProcessorCount, corrections))
                    print(String(format: "matching at %.1f m (camera %.2f m): %d textured chips, %d tie points kept, %d rejected; shift before %.0f m",
                                 r.matchingScale, r.cameraScale, r.texturedChips, r.ties, r.rejectedTies, r.shiftBeforeMetres ?? .nan))
                    if let c = r.correction {
                        print(String(format: "correction: Δt %+.4f ± %.4f s, bias X %+.5f° Y %+.5f°; residuals %.3f → %.3f camera px RMS (median %.3f); position 1σ %.3f px",
                                     c.timeOffsetSeconds, r.timeOffsetSigmaSeconds ?? .nan, c.attitudeBias.x * 180 / .pi, c.attitudeBias.y * 180 / .pi,
                                     r.residualRMSBeforePixels ?? .nan, r.residualRMSAfterPixels ?? .nan, r.residualMedianAfterPixels ?? .nan, r.positionSigmaPixels ?? .nan))
                    }
                    if let truth = try? JSONSerialization.jsonObject(with: Data(contentsOf: mission.appendingPathComponent("truth.json"))) as? [String: Any],
                       let kernels = truth["kernels"] as? [String: Any], let predicted = kernels["predicted"] as? [String: Any] {
                        print("truth: the predicted orbit is \(predicted["timing_error_s"] ?? "?") s late and its pointing \(predicted["pointing_error_rad"] ?? "?") rad off about +X")
                    }
                    // The peer: gdalwarp resampling the observation's ground once, at the camera's scale.
                    let grid = try inputs.processor.grid(for: inputs.framelets.filter { $0.header.band == .pan }, scale: max(1, r.cameraScale))
                    if let gdal = try ProcessProduct.gdalwarpRate(width: grid.width, height: grid.height, work: mission) {
                        let peerSeconds = Double(grid.width * grid.height) / gdal / 1e6
                        print(String(format: "gdalwarp -r bilinear over the same ground at the camera's scale (peer, %d × %d): %.2f s; ratio refinement/gdalwarp %.1f",
                                     grid.width, grid.height, peerSeconds, seconds / peerSeconds))
                    }
                }
            }
        }
    }
}
