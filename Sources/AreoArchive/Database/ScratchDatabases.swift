import Foundation
import Logging
import PostgresNIO

/// Databases made for one run and dropped after it (benchmarks), and the maintenance a
/// benchmark asks for: the only database administration outside migrations.
public enum ScratchDatabases {
    /// Runs `body` against a database made for it on the server at `server`, dropped afterwards
    /// (also when `body` throws).
    public static func with<Result>(
        on server: DatabaseLocation, logger: Logger, _ body: (DatabaseLocation) async throws -> Result
    ) async throws -> Result {
        let name = "areo_scratch_\(Int(Date().timeIntervalSince1970))_\(UInt32.random(in: 0...UInt32.max))"
        let admin = server.with(database: "postgres")
        try await Database.withDatabase(location: admin, logger: logger) {
            try await $0.client.query("CREATE DATABASE \(unescaped: name)", logger: logger)
        }
        func drop() async throws {
            _ = try await Database.withDatabase(location: admin, logger: logger) {
                try await $0.client.query("DROP DATABASE \(unescaped: name) WITH (FORCE)", logger: logger)
            }
        }
        do {
            let result = try await body(server.with(database: name))
            try await drop()
            return result
        } catch {
            try? await drop()
            throw error
        }
    }

    /// Refreshes the planner's statistics of every table (after a bulk build).
    public static func analyze(_ database: Database, logger: Logger) async throws {
        try await database.client.query("VACUUM ANALYZE", logger: logger)
    }

    /// A plain one-column `bytea` table, the target of the COPY peer in `areo bench ingest`.
    public static func createCopyPeerTable(_ database: Database, name: String, logger: Logger) async throws {
        guard name.allSatisfy({ $0.isLetter || $0 == "_" }) else { throw StoreError(.queryFailed, "not a plain table name: \(name)") }
        try await database.client.query("CREATE TABLE \(unescaped: name) (bytes bytea NOT NULL)", logger: logger)
    }
}
