import AreoProducts
import AreoQuery
import AreoGeometry
import AreoProcessing
import AreoArchive
import AreoTelemetry
import ArgumentParser
import Foundation
import Logging

/// `areo geometry load KERNEL.json…`
struct GeometryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "geometry", abstract: "Geometry kernels (ICD §7) and their refinement (ICD §12).", subcommands: [Load.self, Refine.self, Refinements.self])

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

extension GeometryCommand {
    struct Refine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Refine observations' geometry now against the reference map and overlapping trusted observations (ICD §12).")
        @OptionGroup var common: CommonOptions
        @Argument(help: "Observation ids.") var observations: [Int]
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            guard observations.allSatisfy({ (0...Int(UInt32.max)).contains($0) }) else { throw ValidationError("observation ids are 0…4294967295") }
            let observations = self.observations
            let records = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                let service = GeometryRefinementService(products: ProductService(database: database, logger: logger), logger: logger)
                var records: [GeometryRefinementRepository.Record] = []
                for id in observations { records.append(try await service.refine(observationID: id, trigger: .request)) }
                return records
            }
            if json { try printJSON(records); return }
            for r in records { print(RefinementText.line(r)) }
            if records.contains(where: { !$0.accepted }) { throw ExitCode(2) }
        }
    }

    struct Refinements: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The refinements tried, newest first, with their corrections or reasons.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Only this observation.") var observation: Int?
        @Option(help: "At most this many (1…10000).") var limit = 100
        @Flag var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit is 1…10000") }
            let (observation, limit) = (self.observation, self.limit)
            let records = try await DatabaseSession.withDatabase(common, logger: logger) {
                try await GeometryRefinementRepository(database: $0, logger: logger).list(observationID: observation, limit: limit)
            }
            if json { try printJSON(records); return }
            for r in records { print(RefinementText.line(r)) }
        }
    }
}

/// One refinement as a line of text.
enum RefinementText {
    static func line(_ r: GeometryRefinementRepository.Record) -> String {
        let head = "observation \(r.observationID) from \(r.baseKernelID) (\(r.baseKernelKind)) against \(r.controls.joined(separator: ", ")): "
        guard r.accepted, let c = r.result.correction else { return head + "REFUSED — \(r.reason ?? "?")" }
        let degrees = 180 / Double.pi
        return head + "\(r.refinedKernelID ?? "?")"
            + String(format: "; Δt %+.4f ± %.4f s, bias X %+.5f° Y %+.5f°", c.timeOffsetSeconds, r.result.timeOffsetSigmaSeconds ?? 0,
                     c.attitudeBias.x * degrees, c.attitudeBias.y * degrees)
            + String(format: "; %d ties, residuals %.3f → %.3f px RMS (median %.3f), position 1σ %.3f px, shift before %.0f m",
                     r.result.ties, r.result.residualRMSBeforePixels ?? 0, r.result.residualRMSAfterPixels ?? 0, r.result.residualMedianAfterPixels ?? 0,
                     r.result.positionSigmaPixels ?? 0, r.result.shiftBeforeMetres ?? 0)
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
