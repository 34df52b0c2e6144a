import AreoArchive
import ArgumentParser
import Foundation
import Logging

/// Options every subcommand takes. Each is resolved flag > environment variable > default
/// (see docs/configuration.md).
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Areo's working directory (env AREO_DATA_DIR, default .areo).")
    var dataDirFlag: String?

    @Option(name: .customLong("database-url"), help: "PostgreSQL URL; without one Areo runs its embedded cluster (env AREO_DATABASE_URL).")
    var databaseURLFlag: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env AREO_LOG_LEVEL, default info).")
    var logLevelFlag: String?

    @Option(name: .customLong("migrations-dir"), help: "Where the SQL migrations are (env AREO_MIGRATIONS_DIR, default: the checkout's migrations/).")
    var migrationsDirFlag: String?

    static let environment = ProcessInfo.processInfo.environment

    var dataDirectory: URL {
        URL(fileURLWithPath: Self.resolve(dataDirFlag, env: "AREO_DATA_DIR") ?? ".areo").standardizedFileURL
    }

    var databaseURL: String? { Self.resolve(databaseURLFlag, env: "AREO_DATABASE_URL") }

    var logLevel: Logger.Level {
        Self.resolve(logLevelFlag, env: "AREO_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
    }

    var migrationsDirectory: String? { Self.resolve(migrationsDirFlag, env: "AREO_MIGRATIONS_DIR") }

    /// The embedded cluster's directory inside the data directory.
    var embeddedClusterDirectory: URL { dataDirectory.appendingPathComponent("postgres") }

    func makeLogger(_ label: String = "areo") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }

    /// A logger for benchmarks: warnings only unless `--log-level` says otherwise, so the
    /// figures stand out.
    func makeBenchLogger() -> Logger {
        var logger = makeLogger()
        if logLevelFlag == nil { logger.logLevel = .warning }
        return logger
    }

    func loadMigrations() throws -> [Migration] {
        try Migration.load(from: try Migration.locateDirectory(explicit: migrationsDirectory))
    }

    static func resolve(_ flag: String?, env name: String) -> String? {
        if let flag, !flag.isEmpty { return flag }
        if let value = environment[name], !value.isEmpty { return value }
        return nil
    }
}

/// Bootstraps logging once, to standard error, for the whole process.
enum LoggingSetup {
    static let once: Void = {
        LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
    }()
}
