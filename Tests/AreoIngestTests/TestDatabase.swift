import AreoStore
import Foundation
import Logging
import PostgresNIO

/// A fresh, empty database on the test server that `scripts/test` starts
/// (`AREO_TEST_DATABASE_URL`), dropped again when the test is done.
enum TestDatabase {
    static var logger: Logger {
        var logger = Logger(label: "areo-test")
        logger.logLevel = .warning
        return logger
    }

    struct MissingServer: Error, CustomStringConvertible {
        var description: String { "AREO_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a PostgreSQL" }
    }

    static func serverLocation() throws -> DatabaseLocation {
        guard let url = ProcessInfo.processInfo.environment["AREO_TEST_DATABASE_URL"] else { throw MissingServer() }
        return try DatabaseLocation(url: url)
    }

    /// Creates a database, runs `body` with a running pool on it, drops it.
    static func withFreshDatabase<T: Sendable>(_ body: @Sendable (Database) async throws -> T) async throws -> T {
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

    /// The repository's `migrations/` directory.
    static var migrationsDirectory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("migrations")
    }
}
