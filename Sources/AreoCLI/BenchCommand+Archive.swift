import AreoDelivery
import AreoGeometry
import AreoProcessing
import AreoProducts
import AreoSimulator
import AreoArchive
import AreoTelemetry
import ArgumentParser
import Foundation
import Logging
import PostgresNIO

extension BenchCommand {
    /// `areo bench archive`: what a load, a search and a warm product cost at mission scale,
    /// beside the same on a small archive in the same run.
    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build archives of 100 and 35 000 small observations; time a pass ingest, a kernel load, catalogue searches and a warm product on each.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Housekeeping dictionary (ICD §5).") var hkDictionary = "../shared/icd/hk-dictionary.json"
        @Option(help: "Observations of the large archive.") var observations = 35_000
        @Option(help: "Observations of the small archive.") var smallObservations = 100
        @Option(help: "Searches timed per archive.") var searches = 200

        struct Figures {
            var observations: Int
            var buildSeconds: Double
            var passSeconds: Double
            var passRecomputed: Int
            var kernelSeconds: Double
            var kernelRecomputed: Int
            var search: [Double]
            var warm: [Double]
        }

        func validate() throws {
            guard (1...1_000_000).contains(observations), (1...1_000_000).contains(smallObservations) else {
                throw ValidationError("--observations and --small-observations are 1…1000000")
            }
            guard (1...100_000).contains(searches) else { throw ValidationError("--searches is 1…100000") }
        }

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeBenchLogger()
            guard let data = FileManager.default.contents(atPath: hkDictionary) else { throw ValidationError("cannot read \(hkDictionary) (--hk-dictionary)") }
            var options = SimulationOptions()
            (options.seed, options.instrument, options.observations, options.orbits, options.passes, options.truthMaps) = (7, .tiny, 3, 2, 5, false)
            let mission = FileManager.default.temporaryDirectory.appendingPathComponent("areo-bench-archive-\(ProcessInfo.processInfo.processIdentifier)")
            try? FileManager.default.removeItem(at: mission)
            defer { try? FileManager.default.removeItem(at: mission) }
            print("simulating a tiny mission (the observations timed) …")
            _ = try await MissionSimulator(options: options, dictionary: try HousekeepingDictionary.decode(data)).run(into: mission)
            let migrations = try common.loadMigrations()
            let session = try await DatabaseSession.open(common, logger: logger)
            defer { session.close() }
            var results: [Figures] = []
            for size in [smallObservations, observations] {
                let searches = self.searches
                results.append(try await withScratchDatabase(session, logger: logger) { location in
                    try await Database.withDatabase(location: location, logger: logger) { database in
                        try await MigrationRunner(client: database.client, logger: logger).migrate(migrations)
                        return try await Self.measure(size: size, mission: mission, database: database, searches: searches, logger: logger)
                    }
                })
            }
            let (small, large) = (results[0], results[1])
            func ms(_ seconds: Double) -> String { String(format: "%8.1f ms", seconds * 1000) }
            func percentile(_ values: [Double], _ p: Double) -> Double {
                let sorted = values.sorted()
                return sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
            }
            print("")
            print("".padding(toLength: 34, withPad: " ", startingAt: 0) + " " + "\(small.observations) observations".leftPadded(22) + " "
                + "\(large.observations) observations".leftPadded(22) + "    ratio")
            print("archive built in".padding(toLength: 34, withPad: " ", startingAt: 0) + " " + String(format: "%.1f s", small.buildSeconds).leftPadded(22) + " "
                + String(format: "%.1f s", large.buildSeconds).leftPadded(22))
            func row(_ name: String, _ a: Double, _ b: Double, _ extra: String = "") {
                print("\(name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(ms(a).leftPadded(22)) \(ms(b).leftPadded(22)) \(String(format: "%8.2f", b / a)) \(extra)")
            }
            row("ingest of one small pass (median)", small.passSeconds, large.passSeconds, "(recomputed \(small.passRecomputed) / \(large.passRecomputed) observations)")
            row("one kernel load (median)", small.kernelSeconds, large.kernelSeconds, "(recomputed \(small.kernelRecomputed) / \(large.kernelRecomputed))")
            row("catalogue search p50", percentile(small.search, 0.5), percentile(large.search, 0.5))
            row("catalogue search p99", percentile(small.search, 0.99), percentile(large.search, 0.99))
            row("warm product p50", percentile(small.warm, 0.5), percentile(large.warm, 0.5))
            row("warm product p99", percentile(small.warm, 0.99), percentile(large.warm, 0.99))
            let overhead = (large.passSeconds + large.kernelSeconds) / (small.passSeconds + small.kernelSeconds)
            print("load overhead \(large.observations) / \(small.observations): \(String(format: "%.2f", overhead)) (goal ≤ 1.2); "
                + "search p99 at \(large.observations): \(String(format: "%.1f", percentile(large.search, 0.99) * 1000)) ms (goal ≤ 50 ms)")
        }

        /// Builds an archive of `size` background observations, then loads the tiny mission and
        /// times what the issue names.
        static func measure(size: Int, mission: URL, database: Database, searches: Int, logger: Logger) async throws -> Figures {
            let loads = ArchiveLoads(database: database, logger: logger)
            let work = mission.appendingPathComponent("background-\(size)")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: work) }
            print("building an archive of \(size) observations …")
            let buildStart = ContinuousClock.now
            _ = try await loads.housekeepingDictionary(Data(contentsOf: mission.appendingPathComponent("hk-dictionary.json")), file: "hk-dictionary.json")
            _ = try await loads.instrument(Data(contentsOf: mission.appendingPathComponent("instrument.json")), file: "instrument.json")
            _ = try await loads.calibration(directory: mission.appendingPathComponent("calibration/cal-0001"))
            let instrument = InstrumentPreset.tiny.description
            let background = try BackgroundArchive.write(observations: size, instrument: instrument, into: work)
            _ = try await loads.plans([(try Data(contentsOf: background.plans), background.plans.lastPathComponent)])
            _ = try await loads.passes(background.passes)
            _ = try await loads.plans([(Data(contentsOf: mission.appendingPathComponent("mission.plan.jsonl")), "mission.plan.jsonl")])
            let passes = try FileManager.default.contentsOfDirectory(atPath: mission.path).filter { $0.hasSuffix(".dds") }.sorted()
            _ = try await loads.passes([mission.appendingPathComponent(passes[0])])
            _ = try await loads.kernels([(Data(contentsOf: mission.appendingPathComponent("geometry/predicted.json")), "predicted.json")])
            try await ScratchDatabases.analyze(database, logger: logger)
            let buildSeconds = (ContinuousClock.now - buildStart).seconds

            // The timed loads: the mission's other passes one by one, then its reconstructed
            // kernel and two same-id replacements of it (other bytes, so each is a new input).
            var passTimes: [Double] = [], passRecomputed = 0
            for name in passes.dropFirst() {
                let start = ContinuousClock.now
                let loaded = try await loads.passes([mission.appendingPathComponent(name)])
                passTimes.append((ContinuousClock.now - start).seconds)
                passRecomputed = max(passRecomputed, loaded.catalogue.recomputed)
            }
            let reconstructed = try Data(contentsOf: mission.appendingPathComponent("geometry/reconstructed.json"))
            var kernelTimes: [Double] = [], kernelRecomputed = 0
            for variant in 0..<3 {
                let bytes = variant == 0 ? reconstructed : reconstructed + Data(String(repeating: " ", count: variant).utf8)
                let start = ContinuousClock.now
                let loaded = try await loads.kernels([(bytes, "reconstructed.json")], replace: variant > 0)
                kernelTimes.append((ContinuousClock.now - start).seconds)
                kernelRecomputed = max(kernelRecomputed, loaded.catalogue.recomputed)
            }
            func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
            let passSeconds = median(passTimes), kernelSeconds = median(kernelTimes)

            // Searches of the kinds the API serves: a region, a time window, a band and status, a target, the first page.
            let catalog = ObservationCatalog(database: database, logger: logger)
            let timed = try await catalog.search({
                var q = ObservationCatalog.Query()
                (q.publicOnly, q.sclk) = (false, 700_000_000...800_000_000)
                return q
            }()).entries
            guard let missionEntry = timed.last(where: { $0.footprint != nil }), let footprint = missionEntry.footprint else {
                throw ValidationError("the mission's observations have no footprint")
            }
            var queries: [ObservationCatalog.Query] = []
            for k in 0..<searches {
                var q = ObservationCatalog.Query()
                q.publicOnly = k % 2 == 0
                switch k % 5 {
                case 0: q.region = GeographicBox(west: footprint.west, south: footprint.south, east: footprint.east, north: footprint.north)
                case 1:
                    let from = BackgroundArchive.firstSCLK + Double((k * 7919) % max(1, size)) * BackgroundArchive.spacing
                    q.sclk = from...(from + 50 * BackgroundArchive.spacing)
                case 2: (q.band, q.status) = ("NIR", "complete")
                case 3: q.target = BackgroundArchive.targets[k % BackgroundArchive.targets.count]
                default: q.offset = (k * 37) % max(1, size)
                }
                queries.append(q)
            }
            var search: [Double] = []
            for query in queries {
                let t = ContinuousClock.now
                _ = try await catalog.search(query)
                search.append((ContinuousClock.now - t).seconds)
            }

            // A warm product: the delivery path as the server runs it (catalogue entry, key, cache hit).
            let cacheDirectory = work.appendingPathComponent("cache")
            let cache = try ProductCache(directory: cacheDirectory, budgetBytes: 1 << 30, logger: logger)
            let scheduler = RenderScheduler(workers: 1, logger: logger)
            let delivery = await ProductDelivery(database: database, cache: cache, scheduler: scheduler, metrics: DeliveryMetrics(),
                                                 configuration: .init(neighbours: 0), logger: logger)
            let warm = try await withThrowingTaskGroup(of: [Double].self) { group in
                group.addTask { try await scheduler.run(); return [] }
                let request = try ProductRequest(observationID: missionEntry.observationID, kind: .composite, bands: [.nir, .pan, .blu], format: .png)
                guard let entry = try await delivery.entry(observationID: missionEntry.observationID) else { throw ValidationError("no entry") }
                _ = try await delivery.product(request, entry: entry)
                var times: [Double] = []
                for _ in 0..<200 {
                    let t = ContinuousClock.now
                    guard let entry = try await delivery.entry(observationID: missionEntry.observationID),
                          try await delivery.cached(request, entry: entry) != nil else { throw ValidationError("the product was not cached") }
                    times.append((ContinuousClock.now - t).seconds)
                }
                group.cancelAll()
                return times
            }
            return Figures(observations: size, buildSeconds: buildSeconds, passSeconds: passSeconds, passRecomputed: passRecomputed,
                           kernelSeconds: kernelSeconds, kernelRecomputed: kernelRecomputed, search: search, warm: warm)
        }
    }

    /// Synthetic background observations for ``Archive``: plans and pass files of small
    /// observations (two exposures of the tiny instrument's four bands, short CCSDS payloads
    /// that are never rendered), spaced in time before the simulated mission.
    enum BackgroundArchive {
        static let firstSCLK = 600_000_000.0
        static let spacing = 600.0
        static let targets = ["Jezero", "Gale", "Hellas", "Utopia", "Elysium", "Meridiani"]
        static let observationsPerPass = 2_000

        static func write(observations: Int, instrument: InstrumentDescription, into directory: URL) throws -> (plans: URL, passes: [URL]) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var planLines: [String] = []
            var passes: [URL] = []
            var writer = PassFileWriter()
            var ert: Int64 = 1_700_000_000_000_000
            let bands = instrument.bands.map { ObservationPlan.BandWindow(band: $0.name, firstRow: $0.window.firstRow, rows: $0.window.rows, firstCol: $0.window.firstCol, cols: $0.window.cols) }
            for index in 0..<observations {
                let id = UInt32(100_000 + index)
                let start = firstSCLK + Double(index) * spacing
                let plan = ObservationPlan(
                    observationID: id, startSCLK: start, exposures: 2, intervalSeconds: 1, exposureMicroseconds: 1500, binning: 1,
                    bitsPerSample: 14, compression: "ccsds121", rotationDegrees: 0, bands: bands, targetID: targets[index % targets.count],
                    requestedBy: "areo-bench", rationale: "background observation")
                planLines.append(String(decoding: try encoder.encode(plan), as: UTF8.self))
                for exposure in 0..<2 {
                    for band in instrument.bands {
                        let payload = (0..<400).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index &+ exposure) }
                        let sclk = SpacecraftClock(seconds: start + Double(exposure))
                        let header = FragmentHeader(
                            observationID: id, frameletIndex: UInt16(exposure), band: Band(rawValue: UInt8(band.id))!, compression: .ccsds121,
                            exposureStart: sclk, exposureDurationMicroseconds: 1500, windowFirstRow: UInt16(band.window.firstRow),
                            windowRows: UInt16(band.window.rows), windowFirstColumn: UInt16(band.window.firstCol), windowColumns: UInt16(band.window.cols),
                            bitsPerSample: 14, binning: 1, rotationAngleCentidegrees: 0, frameletsPlannedPerBand: 2,
                            payloadLength: UInt32(payload.count), payloadCRC: CRC32.checksum(payload), detectorTemperatureCentidegrees: -500)
                        for packet in writer.fragmentPackets(header.bytes + payload, sclk: sclk) {
                            writer.append(packet, ertMicroseconds: ert)
                            ert += 2_500
                        }
                    }
                }
                if (index + 1) % observationsPerPass == 0 || index == observations - 1 {
                    let url = directory.appendingPathComponent("background_\(passes.count).dds")
                    try Data(writer.drain()).write(to: url)
                    passes.append(url)
                }
            }
            let plans = directory.appendingPathComponent("background.plan.jsonl")
            try Data((planLines.joined(separator: "\n") + "\n").utf8).write(to: plans)
            return (plans, passes)
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
