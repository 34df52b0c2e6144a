import AreoCompute
import ArgumentParser

/// `areo`: the on-demand archive server for Mars orbiter imaging data.
@main
struct Areo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "areo",
        abstract: "On-demand archive server for Mars orbiter imaging data.",
        subcommands: [
            ProductCommand.self, SimulateCommand.self,
            ServeCommand.self, MigrateCommand.self, DatabaseCommand.self, IngestCommand.self, PlanCommand.self,
            HousekeepingCommand.self, ReportCommand.self, PacketsCommand.self, FragmentsCommand.self, GeometryCommand.self, ClockCommand.self, InstrumentCommand.self, CalibrationCommand.self, ShapeModelCommand.self, ReferenceMapCommand.self, ObservationCommand.self, TokenCommand.self, ExportCommand.self, BenchCommand.self,
        ])

    /// Every command but `serve` serves no requests: its CPU work may take every core.
    static func main() async {
        if CommandLine.arguments.dropFirst().first != ServeCommand.configuration.commandName { ComputeThreads.useEveryCore() }
        await main(nil)
    }
}
