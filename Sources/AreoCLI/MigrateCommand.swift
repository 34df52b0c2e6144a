import AreoArchive
import ArgumentParser
import Logging

/// `areo migrate`: apply pending migrations and say what was done.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        LoggingSetup.once
        let logger = common.makeLogger()
        let migrations = try common.loadMigrations()
        let report = try await DatabaseSession.withDatabase(common, logger: logger, migrate: false) { database in
            try await MigrationRunner(client: database.client, logger: logger).migrate(migrations)
        }
        print("applied \(report.applied.count) migration(s), \(report.skipped.count) already applied")
    }
}
