import AreoGeometry
import AreoArchive
import AreoProducts
import AreoRadiometry
import AreoTelemetry
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
    static let configuration = CommandConfiguration(commandName: "observation", abstract: "Observations.", subcommands: [Inputs.self])

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
