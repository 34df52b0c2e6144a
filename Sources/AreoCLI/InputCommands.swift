import AreoGeometry
import AreoArchive
import AreoProducts
import AreoRadiometry
import AreoTelemetry
import AreoCompute
import AreoProcessing
import ArgumentParser
import Foundation
import Logging

/// `areo instrument load instrument.json`
struct InstrumentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "instrument", abstract: "Instrument descriptions (ICD §8).", subcommands: [Load.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate and store instrument.json.")
        @OptionGroup var common: CommonOptions
        @Argument var file: String
        @Flag(help: "Replace a description held under the same name with another (a new input: footprints and products follow it).")
        var replace = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let (file, replace) = (self.file, self.replace)
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let instrument = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                CatalogueRefresh.report(try await ArchiveLoads(database: database, logger: logger).instrument(data, file: file, replace: replace))
            }
            print("\(instrument.name): \(instrument.detector.rows)×\(instrument.detector.cols) detector, bands \(instrument.bands.map(\.name).joined(separator: ","))")
        }
    }
}

/// `areo calibration load DIR`
struct CalibrationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calibration", abstract: "Calibration sets (ICD §9).", subcommands: [Load.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate and store a calibration directory.")
        @OptionGroup var common: CommonOptions
        @Argument var directory: String
        @Flag(help: "Replace a set held under the same id with other content (a new input: its products are regenerated and re-versioned).")
        var replace = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let url = URL(fileURLWithPath: directory)
            let replace = self.replace
            let set = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                CatalogueRefresh.report(try await ArchiveLoads(database: database, logger: logger).calibration(directory: url, replace: replace))
            }
            print("\(set.description.calibrationID): produced \(set.description.produced), applies from SCLK \(set.description.appliesFromSCLK), bands \(set.arrays.keys.map(\.name).sorted().joined(separator: ","))")
        }
    }
}

/// `areo observation inputs ID`
struct ObservationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "observation", abstract: "Observations.", subcommands: [Inputs.self, Corrections.self])

    struct Inputs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The geometry kernel and calibration set that apply to an observation.")
        @OptionGroup var common: CommonOptions
        @Argument var id: Int
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let id = self.id
            let applicable = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await InputRepository(database: database, logger: logger).applicable(observationID: id)
            }
            guard let applicable else { throw ValidationError("observation \(id) is neither planned nor received") }
            if json { try printJSON(applicable); return }
            print("observation \(id) (SCLK \(applicable.startSCLK) – \(applicable.endSCLK)): kernel \(applicable.kernelID ?? "none applies"), calibration \(applicable.calibrationID ?? "none applies")")
        }
    }
}

extension ObservationCommand {
    /// `areo observation corrections OBS… | --all`: the corrections estimated now where none are
    /// stored for the inputs that apply (what a server does in the background as observations complete).
    struct Corrections: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Estimate observations' corrections (mechanism offset, straylight ε) now where none are stored for the inputs that apply; print them.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Observation ids.") var ids: [Int] = []
        @Flag(help: "Every complete observation with a kernel and a calibration set.") var all = false

        func validate() throws {
            guard all != !ids.isEmpty else { throw ValidationError("name observations or give --all (not both)") }
        }

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let (ids, all) = (self.ids, self.all)
            try await DatabaseSession.withDatabase(common, logger: logger) { database in
                let products = ProductService(database: database, logger: logger)
                if all {
                    let done = try await products.estimateCorrections(touchedSince: .distantPast)
                    print("\(done) observation(s) have corrections for their current inputs")
                    return
                }
                for id in ids {
                    let inputs = try await withTaskExecutorPreference(ComputeThreads.shared) { try await products.inputs(observationID: id) }
                    let c = inputs.provenance.corrections ?? .none
                    print(String(format: "observation %d: mechanism offset %+.4f°, straylight ε %@ (kernel %@, calibration %@, shape models %@)",
                                 id, c.mechanismOffsetDegrees, c.straylightEpsilon.map { String(format: "%+.3f", $0) } ?? "none exposed",
                                 inputs.provenance.kernelID, inputs.provenance.calibrationID,
                                 inputs.provenance.shapeModels.isEmpty ? "none" : inputs.provenance.shapeModels.joined(separator: ",")))
                }
            }
        }
    }
}

/// `areo dem load FILE.dem.tif…`, `areo dem list`
struct ShapeModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dem", abstract: "Shape models (ICD §11): GeoTIFF radius rasters.", subcommands: [Load.self, List.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate and store NAME.dem.tif with its side file NAME.dem.tif.json.")
        @OptionGroup var common: CommonOptions
        @Argument var files: [String]
        @Flag(help: "Replace a model held under the same id with other content.")
        var replace = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let (files, replace) = (self.files, self.replace)
            for file in files {
                let stored = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                    CatalogueRefresh.report(try await ArchiveLoads(database: database, logger: logger).shapeModel(path: file, file: (file as NSString).lastPathComponent, replace: replace))
                }
                print("\(stored.demID): \(stored.width) × \(stored.height) pixels at \(stored.resolution) m, \(String(format: "%.3f", stored.west))…\(String(format: "%.3f", stored.east))°E, \(String(format: "%.3f", stored.south))…\(String(format: "%.3f", stored.north))°N, sha256 \(stored.sha256.prefix(16))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The shape models held, finest first.")
        @OptionGroup var common: CommonOptions
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let models = try await DatabaseSession.withDatabase(common, logger: logger) { try await ShapeModelRepository(database: $0, logger: logger).list() }
            if json { try printJSON(models); return }
            for m in models { print("\(m.demID)\t\(m.resolution) m\t\(m.width)×\(m.height)\t\(m.west)…\(m.east)°E\t\(m.south)…\(m.north)°N\t\(m.sha256.prefix(16))") }
        }
    }
}

/// `areo refmap load FILE.tif…`, `areo refmap list`
struct ReferenceMapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refmap", abstract: "Reference maps (ICD §12): GeoTIFF I/F orthoimages that geometry is refined against.", subcommands: [Load.self, List.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate and store NAME.tif with its side file NAME.tif.json.")
        @OptionGroup var common: CommonOptions
        @Argument var files: [String]
        @Flag(help: "Replace a map held under the same id with other content.")
        var replace = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let (files, replace) = (self.files, self.replace)
            for file in files {
                let stored = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                    CatalogueRefresh.report(try await ArchiveLoads(database: database, logger: logger).referenceMap(path: file, file: (file as NSString).lastPathComponent, replace: replace))
                }
                print("\(stored.mapID): \(stored.band) I/F, \(stored.width) × \(stored.height) pixels at \(String(format: "%.1f", stored.resolution)) m (±\(stored.accuracy) m), \(String(format: "%.3f", stored.west))…\(String(format: "%.3f", stored.east))°E, \(String(format: "%.3f", stored.south))…\(String(format: "%.3f", stored.north))°N, sha256 \(stored.sha256.prefix(16))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The reference maps held, finest first.")
        @OptionGroup var common: CommonOptions
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let maps = try await DatabaseSession.withDatabase(common, logger: logger) { try await ReferenceMapRepository(database: $0, logger: logger).list() }
            if json { try printJSON(maps); return }
            for m in maps { print("\(m.mapID)\t\(m.band)\t\(m.resolution) m\t±\(m.accuracy) m\t\(m.width)×\(m.height)\t\(m.west)…\(m.east)°E\t\(m.south)…\(m.north)°N\t\(m.sha256.prefix(16))") }
        }
    }
}
