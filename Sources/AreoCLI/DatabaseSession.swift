import AreoArchive
import Foundation
import Logging
import PostgresNIO

/// The database a command works against: the given URL, or the embedded cluster (started if
/// needed, and stopped again at the end if this process started it).
struct DatabaseSession {
    let location: DatabaseLocation
    private let embedded: EmbeddedPostgres?
    private let startedHere: Bool

    static func open(_ options: CommonOptions, logger: Logger) async throws -> DatabaseSession {
        if let url = options.databaseURL {
            return DatabaseSession(location: try DatabaseLocation(url: url), embedded: nil, startedHere: false)
        }
        let embedded = EmbeddedPostgres(clusterDirectory: options.embeddedClusterDirectory, logger: logger)
        let (location, startedHere) = try await embedded.start()
        return DatabaseSession(location: location, embedded: embedded, startedHere: startedHere)
    }

    /// Stops the embedded cluster if this process started it.
    func close() {
        guard startedHere, let embedded else { return }
        do { try embedded.stop() } catch { embedded.logger.error("could not stop the embedded PostgreSQL: \(error)") }
    }

    /// Opens a session, runs `body` with a running connection pool with migrations applied, closes.
    static func withDatabase<T: Sendable>(
        _ options: CommonOptions, logger: Logger, migrate: Bool = true,
        _ body: @Sendable (Database) async throws -> T
    ) async throws -> T {
        let migrations = try options.loadMigrations()
        let session = try await open(options, logger: logger)
        defer { session.close() }
        do {
            return try await Database.withDatabase(location: session.location, logger: logger) { database in
                if migrate { try await MigrationRunner(client: database.client, logger: logger).migrate(migrations) }
                return try await body(database)
            }
        } catch let error as PSQLError {
            // The detail (server message, query) goes to the log; the user gets a plain sentence.
            logger.error("database error", metadata: ["detail": "\(String(reflecting: error))"])
            throw StoreError(.queryFailed, "a database operation failed: \(error.serverInfo?[.message] ?? "connection problem") (details in the log)")
        }
    }
}
