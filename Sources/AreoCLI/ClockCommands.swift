import AreoProducts
import AreoQuery
import AreoGeometry
import AreoArchive
import AreoTelemetry
import ArgumentParser
import Foundation
import Logging

/// `areo geometry load KERNEL.json…`
struct GeometryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "geometry", abstract: "Geometry kernels (ICD §7).", subcommands: [Load.self])

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate and store geometry kernels.")
        @OptionGroup var common: CommonOptions
        @Flag(help: "Replace a kernel held under the same id with other content (a new input: its products are regenerated and re-versioned).")
        var replace = false
        @Argument var files: [String]

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            let files = self.files
            var contents: [(data: Data, name: String)] = []
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                contents.append((data, file))
            }
            let replace = self.replace
            let kernels = try await DatabaseSession.withDatabase(common, logger: logger) { [contents] database in
                CatalogueRefresh.report(try await ArchiveLoads(database: database, logger: logger).kernels(contents, replace: replace))
                    .map { "\($0.kernelID) (\($0.kind.rawValue), produced \($0.produced))" }
            }
            for k in kernels { print("loaded \(k)") }
        }
    }
}

/// `areo clock wraps --from UTC --to UTC`
struct ClockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "clock", abstract: "The spacecraft clock (ICD §1, §6).", subcommands: [Wraps.self])

    struct Wraps: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the UTC moments at which the coarse clock wraps (multiples of 65 536 s).")
        @OptionGroup var common: CommonOptions
        @Option(help: "Start, ISO 8601 UTC.") var from: String
        @Option(help: "End, ISO 8601 UTC.") var to: String
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let span: ClosedRange<Date>
            do {
                guard let asked = try QueryParameters([("from", from), ("to", to)]).timeRange("from", "to", maximumSpan: ClockService.maximumWrapSpan) else {
                    throw ValidationError("--from and --to are required")
                }
                span = asked
            } catch let error as ParameterError {
                throw ValidationError("--\(error.description)")
            }
            let (start, end) = (span.lowerBound, span.upperBound)
            let logger = common.makeLogger()
            let wraps = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await ClockService(database: database, logger: logger).wraps(from: start, to: end, publicOnly: false)
            }
            if json { try printJSON(wraps); return }
            if wraps.isEmpty { print("no coarse-clock wrap between \(from) and \(to)") }
            for w in wraps {
                let spanning = w.observations.isEmpty ? "" : " — planned observations spanning it: \(w.observations.map(String.init).joined(separator: ", "))"
                print("\(w.utc)  coarse SCLK \(w.coarseSCLK)  (kernel \(w.kernelID))\(spanning)")
            }
        }
    }
}
