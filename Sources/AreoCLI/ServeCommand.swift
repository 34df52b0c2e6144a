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

    @Option(help: "Product cache directory (env AREO_CACHE_DIR, default cache/ under the working directory).")
    var cacheDir: String?

    @Option(help: "Product cache budget, e.g. 2G, 500M (env AREO_CACHE_SIZE, default 2G).")
    var cacheSize: String?

    @Option(help: "Render workers (default: one per core).")
    var workers: Int?

    func run() async throws {
        LoggingSetup.once
        let logger = common.makeLogger()
        let migrations = try common.loadMigrations()
        let session = try await DatabaseSession.open(common, logger: logger)
        defer { session.close() }

        let configuration = ServerConfiguration(
            host: CommonOptions.resolve(host, env: "AREO_HOST") ?? "127.0.0.1",
            port: port ?? CommonOptions.resolve(nil, env: "AREO_PORT").flatMap(Int.init) ?? 8080,
            uploadDirectory: common.dataDirectory.appendingPathComponent("uploads").path,
            cacheDirectory: CommonOptions.resolve(cacheDir, env: "AREO_CACHE_DIR") ?? "cache",
            cacheBytes: try Self.bytes(CommonOptions.resolve(cacheSize, env: "AREO_CACHE_SIZE") ?? "2G"),
            renderWorkers: workers ?? ProcessInfo.processInfo.activeProcessorCount,
            exportDirectory: common.dataDirectory.appendingPathComponent("exports").path)
        let database = Database(location: session.location, logger: logger)
        let (app, _) = try await AreoServer.makeApplication(
            configuration: configuration, database: database, migrations: migrations, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// "2G", "500M", "64K" or a number of bytes.
    static func bytes(_ text: String) throws -> Int {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        let upper = text.uppercased().replacingOccurrences(of: "B", with: "").replacingOccurrences(of: "I", with: "")
        if let unit = upper.last.flatMap({ units[$0] }), let value = Double(upper.dropLast()), value > 0 { return Int(value * Double(unit)) }
        if let value = Int(upper), value > 0 { return value }
        throw ValidationError("--cache-size is a size such as 2G, 500M or 1048576, not '\(text)'")
    }
}
