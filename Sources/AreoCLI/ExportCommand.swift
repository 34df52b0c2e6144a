import AreoArchive
import AreoExport
import AreoTelemetry
import ArgumentParser
import Foundation
import Logging

/// `areo export pds4 --out DIR …` and `areo export verify DIR`.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "PDS4 deliveries (docs/pds4.md).", subcommands: [PDS4.self, Verify.self])

    struct PDS4: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pds4", abstract: "Write a PDS4 bundle of the archive's products, with a delivery manifest.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Directory to write the delivery into.") var out: String
        @Option(help: "Observation ids, comma-separated (default: all).") var observations: String?
        @Option(help: "'last' delivers only products new or changed since the last delivery; an ISO 8601 UTC time limits it to observations changed since then.")
        var since: String?
        @Flag(help: "Export observations that are incomplete or failed validation too.") var force = false
        @Flag(help: "Include embargoed and unplanned observations: a team-internal delivery, marked so in its bundle label and kept out of the public version history.")
        var includeEmbargoed = false
        @Option(help: "Map scale of projected products and browse images, metres per pixel.") var scale = 4.0
        @Flag(help: "Print the report as JSON.") var json = false

        func run() async throws {
            LoggingSetup.once
            let logger = common.makeLogger()
            var options = BundleExporter.Options(directory: URL(fileURLWithPath: out))
            options.force = force
            options.includeEmbargoed = includeEmbargoed
            options.scale = scale
            if let observations {
                let ids = observations.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard ids.allSatisfy({ $0 != nil }) else { throw ValidationError("--observations is a comma-separated list of ids") }
                options.observations = ids.compactMap { $0 }
            }
            if let since {
                do { try options.since(since) } catch { throw ValidationError("\(error)") }
            }
            let chosen = options
            let report = try await DatabaseSession.withDatabase(common, logger: logger) { database in
                try await BundleExporter(database: database, logger: logger).export(chosen)
            }
            if json { try printJSON(report); return }
            print("delivery \(report.deliveryID): \(report.products.count) product(s), \(report.files) files in \(report.directory)")
            for product in report.products { print("  \(product.status.padding(toLength: 9, withPad: " ", startingAt: 0)) \(product.lidvid)") }
            for (id, reason) in report.refused.sorted(by: { $0.key < $1.key }) { print("  not exported: observation \(id): \(reason)") }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a delivery against its manifest and its labels against their files.")
        @Argument(help: "The delivery directory.") var directory: String

        func run() async throws {
            let problems = try DeliveryManifest.verify(URL(fileURLWithPath: directory))
            for problem in problems { print(problem) }
            if problems.isEmpty {
                print("\(directory): the delivery matches its manifest and its labels")
            } else {
                throw ExitCode(1)
            }
        }
    }
}
