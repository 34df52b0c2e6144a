import Foundation
import Logging
import PostgresNIO

/// Applies numbered migrations in order, each exactly once and inside its own transaction,
/// and records them in `schema_migrations`.
///
/// A failing migration is rolled back whole (the schema stays as it was before that file) and
/// reported with the file, the statement's line and text, and the server's message.
public struct MigrationRunner: Sendable {
    /// Serialises concurrent runners (two `areo` processes starting at once).
    static let advisoryLockKey: Int64 = 0x4152_454F  // "AREO"

    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The outcome of a run.
    public struct Report: Sendable, Equatable {
        /// Versions applied by this run.
        public var applied: [Int] = []
        /// Versions that were already applied.
        public var skipped: [Int] = []
    }

    /// Applies every migration not yet applied.
    @discardableResult
    public func migrate(_ migrations: [Migration]) async throws -> Report {
        try await ensureMigrationsTable()
        var report = Report()
        for migration in migrations {
            let applied = try await apply(migration)
            if applied { report.applied.append(migration.version) } else { report.skipped.append(migration.version) }
        }
        return report
    }

    /// Versions recorded as applied, with their checksums.
    public func appliedVersions() async throws -> [Int: String] {
        try await ensureMigrationsTable()
        var result: [Int: String] = [:]
        let rows = try await client.query("SELECT version, checksum FROM schema_migrations", logger: logger)
        for try await (version, checksum) in rows.decode((Int, String).self) { result[version] = checksum }
        return result
    }

    /// Whether every given migration is applied (for readiness checks).
    public func isCurrent(_ migrations: [Migration]) async throws -> Bool {
        let rows = try await client.query(
            "SELECT version FROM schema_migrations", logger: logger)
        var applied = Set<Int>()
        for try await version in rows.decode(Int.self) { applied.insert(version) }
        return migrations.allSatisfy { applied.contains($0.version) }
    }

    private func ensureMigrationsTable() async throws {
        try await client.inTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    file_name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
        }
    }

    /// Applies one migration unless recorded; returns whether it ran.
    private func apply(_ migration: Migration) async throws -> Bool {
        let script = SQLScript(migration.sql)
        let logger = self.logger
        return try await client.inTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))", logger: logger)
            let existing = try await connection.query(
                "SELECT checksum FROM schema_migrations WHERE version = \(migration.version)", logger: logger)
            for try await checksum in existing.decode(String.self) {
                if checksum != migration.checksum {
                    logger.warning("applied migration file has changed since", metadata: ["file": "\(migration.fileName)"])
                }
                return false
            }
            for statement in script.statements {
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: statement.text), logger: logger)
                } catch {
                    let serverMessage = (error as? PSQLError)?.serverInfo?[.message] ?? "\(error)"
                    throw StoreError(
                        .migrationFailed,
                        "migration \(migration.fileName) failed at line \(statement.line): \(serverMessage); nothing of it was applied",
                        detail: statement.text)
                }
            }
            try await connection.query(
                "INSERT INTO schema_migrations (version, file_name, checksum) VALUES (\(migration.version), \(migration.fileName), \(migration.checksum))",
                logger: logger)
            logger.info("applied migration", metadata: ["file": "\(migration.fileName)"])
            return true
        }
    }
}
