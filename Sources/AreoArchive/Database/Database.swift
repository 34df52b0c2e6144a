import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Areo's connection to PostgreSQL: a `PostgresClient` pool, run as a service.
///
/// Create it, add it to the `ServiceGroup` (or call ``run()``), and share it with every
/// repository. Queries made before the service runs wait for it.
public final class Database: Service, Sendable {
    /// The connection pool. Every query binds its values (`\(value)` interpolation).
    public let client: PostgresClient
    /// Where it connects.
    public let location: DatabaseLocation
    let logger: Logger

    public init(location: DatabaseLocation, logger: Logger) {
        self.location = location
        self.logger = logger
        self.client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: logger)
    }

    /// Runs the connection pool until cancelled or gracefully shut down.
    public func run() async throws {
        await cancelOnGracefulShutdown {
            await self.client.run()
        }
    }

    /// Runs `body` with the pool running, then stops the pool: for commands that are not servers.
    public static func withDatabase<Result: Sendable>(
        location: DatabaseLocation, logger: Logger,
        _ body: @Sendable (Database) async throws -> Result
    ) async throws -> Result {
        let database = Database(location: location, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            // Let the pool start before the first lease (PostgresNIO warns about leases before run()).
            await Task.yield()
            return try await body(database)
        }
    }

    /// Whether the server answers a trivial query within `timeout`.
    public func isReachable(timeout: Duration = .seconds(2)) async -> Bool {
        do {
            return try await withTimeout(timeout) {
                let rows = try await self.client.query("SELECT 1", logger: self.logger)
                for try await _ in rows {}
                return true
            }
        } catch {
            logger.debug("database not reachable", metadata: ["error": "\(String(reflecting: error))"])
            return false
        }
    }
}

struct TimeoutError: Error {}

/// Runs `operation`, throwing `TimeoutError` if it has not finished after `timeout`.
func withTimeout<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

extension PostgresClient {
    /// Runs `body` in a transaction (committed if it returns, rolled back if it throws) and
    /// rethrows the body's own error rather than PostgresNIO's wrapper, so callers see the cause.
    public func inTransaction<Result>(
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await withTransaction(logger: logger, isolation: isolation, body)
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError, error.rollbackError == nil { throw closureError }
            throw error.beginError ?? error.commitError ?? error.rollbackError ?? error
        }
    }
}
