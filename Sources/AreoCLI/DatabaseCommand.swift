import AreoArchive
import ArgumentParser
import Foundation
import Logging

/// `areo db start|stop|status`: manage the embedded PostgreSQL cluster.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Manage the embedded PostgreSQL cluster.",
        subcommands: [Start.self, Stop.self, Status.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create (first time) and start the embedded cluster; leave it running.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            LoggingSetup.once
            let embedded = EmbeddedPostgres(clusterDirectory: common.embeddedClusterDirectory, logger: common.makeLogger())
            let (location, _) = try await embedded.start()
            print(location.url)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded cluster (its data is kept).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            LoggingSetup.once
            let embedded = EmbeddedPostgres(clusterDirectory: common.embeddedClusterDirectory, logger: common.makeLogger())
            try embedded.stop()
            print(embedded.status())
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Say whether the embedded cluster exists and runs.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let embedded = EmbeddedPostgres(clusterDirectory: common.embeddedClusterDirectory, logger: common.makeLogger())
            print("\(embedded.clusterDirectory.path): \(embedded.status())")
        }
    }
}
