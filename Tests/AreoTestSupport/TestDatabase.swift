import AreoArchive
import Foundation
import Logging
import PostgresNIO

/// A fresh, empty database on the test server that `scripts/test` starts
/// (`AREO_TEST_DATABASE_URL`), dropped again when the test is done.
/// Helpers shared by the integration tests.
public enum TestDatabase {
    public static var logger: Logger {
        var logger = Logger(label: "areo-test")
        // AREO_TEST_LOG_LEVEL (trace … critical) shows more when a test needs looking into.
        logger.logLevel = ProcessInfo.processInfo.environment["AREO_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }

    public struct MissingServer: Error, CustomStringConvertible {
        public var description: String { "AREO_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a PostgreSQL" }
    }

    public static func serverLocation() throws -> DatabaseLocation {
        guard let url = ProcessInfo.processInfo.environment["AREO_TEST_DATABASE_URL"] else { throw MissingServer() }
        return try DatabaseLocation(url: url)
    }

    /// Creates a database, runs `body` with a running pool on it, drops it.
    public static func withFreshDatabase<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
        let server = try serverLocation()
        let name = "areo_test_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
        try await admin(server) { "CREATE DATABASE \(unescaped: name)" }
        do {
            let result = try await Database.withDatabase(location: server.with(database: name), logger: logger, body)
            try await admin(server) { "DROP DATABASE \(unescaped: name) WITH (FORCE)" }
            return result
        } catch {
            try? await admin(server) { "DROP DATABASE \(unescaped: name) WITH (FORCE)" }
            throw error
        }
    }

    private static func admin(_ server: DatabaseLocation, _ query: () -> PostgresQuery) async throws {
        let query = query()
        try await Database.withDatabase(location: server.with(database: "postgres"), logger: logger) { database in
            try await database.client.query(query, logger: logger)
        }
    }

    /// The repository's root directory.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The repository's `migrations/` directory.
    public static var migrationsDirectory: URL { repositoryRoot.appendingPathComponent("migrations") }

    /// `../shared/samples` beside the repository (or `AREO_SAMPLES_DIR`).
    public static var samplesDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["AREO_SAMPLES_DIR"] { return URL(fileURLWithPath: dir) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/samples")
    }

    /// The `areo` executable built beside the tests (or `AREO_BINARY`).
    public static var areoBinary: URL {
        if let path = ProcessInfo.processInfo.environment["AREO_BINARY"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.appendingPathComponent(".build/debug/areo")
    }

    /// A fresh database's URL on the test server (for child processes), and a function dropping it.
    public static func createDatabase() async throws -> (url: String, drop: @Sendable () async throws -> Void) {
        let server = try serverLocation()
        let name = "areo_test_\(UInt64.random(in: 0...UInt64.max) % 1_000_000_000_000)"
        try await admin(server) { "CREATE DATABASE \(unescaped: name)" }
        return (server.with(database: name).url, { try await admin(server) { "DROP DATABASE \(unescaped: name) WITH (FORCE)" } })
    }
}
