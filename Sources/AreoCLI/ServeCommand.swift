import AreoServer
import AreoStore
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// `areo serve`: migrate, then serve HTTP until SIGINT/SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP server.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Interface to listen on (env AREO_HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env AREO_PORT, default 8080).")
    var port: Int?

    func run() async throws {
        LoggingSetup.once
        let logger = common.makeLogger()
        let migrations = try common.loadMigrations()
        let session = try await DatabaseSession.open(common, logger: logger)
        defer { session.close() }

        let configuration = ServerConfiguration(
            host: CommonOptions.resolve(host, env: "AREO_HOST") ?? "127.0.0.1",
            port: port ?? CommonOptions.resolve(nil, env: "AREO_PORT").flatMap(Int.init) ?? 8080,
            uploadDirectory: common.dataDirectory.appendingPathComponent("uploads").path)
        let database = Database(location: session.location, logger: logger)
        let app = AreoServer.makeApplication(
            configuration: configuration, database: database, migrations: migrations, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
