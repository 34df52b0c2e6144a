import AreoProducts
import AreoServer
import AreoArchive
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

    @Option(help: "Sustained requests per second per client, a token or a public address (0: no limit; default 200). Over it: 429.")
    var rateLimit: Double = 200

    @Option(help: "Cold renders one client may wait for at once (0: no limit; default 4). Over it: 429.")
    var coldRenders: Int = 4

    @Option(help: "Memory for fragments read for recent tiles (neighbouring tiles share framelets), e.g. 256M; 0 turns it off (default 256M).")
    var fragmentMemory = "256M"

    @Option(help: "An estimated rotation-mechanism offset beyond this many degrees (either sign) is an anomaly for operations (default 0.3).")
    var mechanismOffsetLimit: Double = 0.3
    @Flag(inversion: .prefixedNo, help: "Refine predicted geometry automatically, at low priority, when observations complete and reference maps arrive (ICD §12; default yes).")
    var automaticRefinement = true
    @Flag(inversion: .prefixedNo, help: "Estimate each observation's corrections (mechanism offset, straylight) in the background as soon as it is complete or its inputs change, so its first product need not wait (default no: the estimates share the compute threads with renders).")
    var automaticCorrections = false

    func run() async throws {
        LoggingSetup.once
        let logger = common.makeLogger()
        let migrations = try common.loadMigrations()
        let session = try await DatabaseSession.open(common, logger: logger)
        defer { session.close() }

        guard rateLimit.isFinite, (0...1_000_000).contains(rateLimit) else { throw ValidationError("--rate-limit is 0…1000000 requests per second") }
        guard (0...10_000).contains(coldRenders) else { throw ValidationError("--cold-renders is 0…10000") }
        guard mechanismOffsetLimit.isFinite, (0...180).contains(mechanismOffsetLimit) else { throw ValidationError("--mechanism-offset-limit is 0…180 degrees") }
        var configuration = ServerConfiguration(
            host: CommonOptions.resolve(host, env: "AREO_HOST") ?? "127.0.0.1",
            port: port ?? CommonOptions.resolve(nil, env: "AREO_PORT").flatMap(Int.init) ?? 8080,
            uploadDirectory: common.dataDirectory.appendingPathComponent("uploads").path,
            cacheDirectory: CommonOptions.resolve(cacheDir, env: "AREO_CACHE_DIR") ?? "cache",
            cacheBytes: try Self.bytes(CommonOptions.resolve(cacheSize, env: "AREO_CACHE_SIZE") ?? "2G"),
            renderWorkers: workers ?? ProcessInfo.processInfo.activeProcessorCount,
            exportDirectory: common.dataDirectory.appendingPathComponent("exports").path)
        configuration.requestsPerSecond = rateLimit
        configuration.requestBurst = max(1, 2 * rateLimit)
        configuration.coldRendersPerClient = coldRenders
        configuration.fragmentMemoryBytes = fragmentMemory == "0" ? 0 : try Self.bytes(fragmentMemory)
        configuration.corrections.mechanismOffsetLimitDegrees = mechanismOffsetLimit
        configuration.automaticRefinement = automaticRefinement
        configuration.automaticCorrections = automaticCorrections
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
        if let unit = upper.last.flatMap({ units[$0] }), let value = Double(upper.dropLast()), value > 0, value * Double(unit) < 1e18 {
            return Int(value * Double(unit))
        }
        if let value = Int(upper), value > 0 { return value }
        throw ValidationError("--cache-size is a size such as 2G, 500M or 1048576, not '\(text)'")
    }
}
